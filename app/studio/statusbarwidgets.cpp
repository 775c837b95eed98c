#include "statusbarwidgets.h"

#include "projectsession.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QToolButton>

namespace Studio {

static QHBoxLayout *row(QWidget *w)
{
    auto *h = new QHBoxLayout(w);
    h->setContentsMargins(4, 0, 4, 0);
    h->setSpacing(5);
    return h;
}

DatabaseStatusWidget::DatabaseStatusWidget(QWidget *parent) : QWidget(parent)
{
    auto *h = row(this);
    m_dot = new QLabel(u"●"_qs, this);
    m_text = new QLabel(tr("No project"), this);
    h->addWidget(m_dot);
    h->addWidget(m_text);
    update();
}

void DatabaseStatusWidget::setSession(ProjectSession *session)
{
    m_session = session;
    if (session)
        connect(session, &ProjectSession::databaseStateChanged, this, &DatabaseStatusWidget::update);
    update();
}

void DatabaseStatusWidget::update()
{
    using D = ProjectSession::DbState;
    const D st = m_session ? m_session->databaseState() : D::Unknown;
    const char *colour = st == D::Running ? "#2da44e" : st == D::Failed ? "#d73a49"
                         : (st == D::Starting || st == D::Stopping) ? "#e38b06" : "#9aa0a6";
    m_dot->setStyleSheet(u"color: %1"_qs.arg(QLatin1String(colour)));
    if (!m_session) {
        m_text->setText(tr("No project"));
        return;
    }
    QString text = tr("PostgreSQL %1").arg(ProjectSession::stateName(st));
    const QString detail = m_session->databaseDetail();
    if (!detail.isEmpty())
        text += u" · "_qs + detail;
    m_text->setText(text);
    m_text->setToolTip(m_session->connection().display);
}

QString DatabaseStatusWidget::text() const
{
    return m_text->text();
}

ReplicationLagWidget::ReplicationLagWidget(QWidget *parent) : QWidget(parent)
{
    auto *h = row(this);
    m_text = new QLabel(tr("replication lag —"), this);
    m_text->setToolTip(tr("WAL not yet confirmed by pg_events_ws on the project's replication slot"));
    h->addWidget(m_text);
}

QString ReplicationLagWidget::formatBytes(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

void ReplicationLagWidget::setSession(ProjectSession *session)
{
    m_text->setText(tr("replication lag —"));
    if (!session)
        return;
    connect(session, &ProjectSession::lagChanged, this, [this](qint64 bytes) {
        m_text->setText(bytes < 0 ? tr("replication lag —") : tr("replication lag %1").arg(formatBytes(bytes)));
    });
}

QString ReplicationLagWidget::text() const
{
    return m_text->text();
}

TaskWidget::TaskWidget(QWidget *parent) : QWidget(parent)
{
    auto *h = row(this);
    m_text = new QLabel(this);
    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 0);
    m_bar->setMaximumWidth(120);
    m_bar->setMaximumHeight(12);
    m_bar->setTextVisible(false);
    m_cancel = new QToolButton(this);
    m_cancel->setText(tr("Cancel"));
    m_cancel->setAutoRaise(true);
    h->addWidget(m_text);
    h->addWidget(m_bar);
    h->addWidget(m_cancel);
    connect(m_cancel, &QToolButton::clicked, this, &TaskWidget::cancelRequested);
    hide();
}

void TaskWidget::start(const QString &what, bool cancellable)
{
    m_text->setText(what);
    m_cancel->setVisible(cancellable);
    show();
}

void TaskWidget::finish()
{
    hide();
}

} // namespace Studio
