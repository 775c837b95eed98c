#include "servicespanel.h"

#include "panelwidgets.h"
#include "projectsession.h"

#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Studio {

namespace {
enum Column { NameCol, StateCol, PortCol, PidCol, InfoCol, ColumnCount };
const QStringList Services = {u"postgres"_qs, u"postgrest"_qs, u"realtime"_qs};

QIcon stateIcon(const QString &state)
{
    QColor c(0x9a, 0xa0, 0xa6);
    if (state == u"healthy"_qs)
        c = QColor(0x2d, 0xa4, 0x4e);
    else if (state == u"starting"_qs || state == u"stopping"_qs)
        c = QColor(0xe3, 0x8b, 0x06);
    else if (state == u"failed"_qs)
        c = QColor(0xd7, 0x3a, 0x49);
    return stateDot(c);
}
} // namespace

ServicesPanel::ServicesPanel(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 3, 6, 3);
    auto button = [this, bar](const QString &text, const QString &tip) { return addBarButton(this, bar, text, tip); };
    m_startAll = button(tr("Start all"), tr("PostgreSQL (with migrations), then PostgREST and pg_events_ws"));
    m_stopAll = button(tr("Stop all"), tr("Stop PostgREST and pg_events_ws, then PostgreSQL"));
    bar->addSpacing(12);
    m_start = button(tr("Start"), tr("Start the selected service"));
    m_stop = button(tr("Stop"), tr("Stop the selected service"));
    m_restart = button(tr("Restart"), tr("Restart the selected service"));
    m_urls = new QLabel(this);
    m_urls->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    m_urls->setOpenExternalLinks(true);
    bar->addSpacing(12);
    bar->addWidget(m_urls, 1);
    layout->addLayout(bar);

    auto *split = new QSplitter(Qt::Horizontal, this);
    m_tree = new QTreeWidget(split);
    m_tree->setColumnCount(ColumnCount);
    m_tree->setHeaderLabels({tr("Service"), tr("State"), tr("Port"), tr("PID"), tr("Details")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setStretchLastSection(true);
    const QStringList labels = {tr("PostgreSQL"), tr("PostgREST"), tr("pg_events_ws")};
    for (int i = 0; i < Services.size(); ++i) {
        auto *item = new QTreeWidgetItem(m_tree, {labels[i], tr("stopped")});
        item->setData(NameCol, Qt::UserRole, Services[i]);
        item->setIcon(StateCol, stateIcon(u"stopped"_qs));
        item->setTextAlignment(PortCol, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(PidCol, Qt::AlignRight | Qt::AlignVCenter);
    }
    m_tree->setCurrentItem(m_tree->topLevelItem(0));
    m_logs = new QTabWidget(split);
    m_logs->setDocumentMode(true);
    const QStringList logNames = {u"pgext"_qs, u"postgres"_qs, u"postgrest"_qs, u"realtime"_qs};
    const QStringList logLabels = {tr("Stack"), tr("PostgreSQL"), tr("PostgREST"), tr("pg_events_ws")};
    for (int i = 0; i < logNames.size(); ++i) {
        auto *view = new QPlainTextEdit(m_logs);
        view->setReadOnly(true);
        view->setMaximumBlockCount(5000);
        view->setLineWrapMode(QPlainTextEdit::NoWrap);
        view->setFont(QFont(u"monospace"_qs, 9));
        m_logs->addTab(view, logLabels[i]);
        m_logViews.insert(logNames[i], view);
    }
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    layout->addWidget(split, 1);

    m_tail = new QTimer(this);
    m_tail->setInterval(1000);
    connect(m_tail, &QTimer::timeout, this, &ServicesPanel::tailPostgresLog);

    connect(m_startAll, &QToolButton::clicked, this, [this] {
        if (m_session)
            m_session->startServices();
    });
    connect(m_stopAll, &QToolButton::clicked, this, [this] {
        if (m_session)
            m_session->stopServices(true);
    });
    connect(m_start, &QToolButton::clicked, this, [this] {
        if (m_session)
            m_session->startService(selectedService());
    });
    connect(m_stop, &QToolButton::clicked, this, [this] {
        if (m_session)
            m_session->stopService(selectedService());
    });
    connect(m_restart, &QToolButton::clicked, this, [this] {
        if (m_session)
            m_session->restartService(selectedService());
    });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this] {
        const QString s = selectedService();
        if (auto *view = m_logViews.value(s))
            m_logs->setCurrentWidget(view);
    });
    setEnabled(false);
}

QString ServicesPanel::selectedService() const
{
    QTreeWidgetItem *item = m_tree->currentItem();
    return item ? item->data(NameCol, Qt::UserRole).toString() : QString();
}

void ServicesPanel::setSession(ProjectSession *session)
{
    m_session = session;
    for (QPlainTextEdit *v : std::as_const(m_logViews))
        v->clear();
    m_postgresLogPos = -1;
    setEnabled(session != nullptr);
    if (!session) {
        m_tail->stop();
        return;
    }
    connect(session, &ProjectSession::databaseStateChanged, this, &ServicesPanel::refresh);
    connect(session, &ProjectSession::stackPhaseChanged, this, &ServicesPanel::refresh);
    connect(session, &ProjectSession::serviceStateChanged, this, &ServicesPanel::refresh);
    connect(session, &ProjectSession::serviceLog, this, &ServicesPanel::appendLog);
    m_tail->start();
    tailPostgresLog();
    refresh();
}

QString ServicesPanel::stateOf(const QString &service) const
{
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        if (m_tree->topLevelItem(i)->data(NameCol, Qt::UserRole).toString() == service)
            return m_tree->topLevelItem(i)->text(StateCol);
    return {};
}

QString ServicesPanel::logOf(const QString &service) const
{
    QPlainTextEdit *v = m_logViews.value(service);
    return v ? v->toPlainText() : QString();
}

void ServicesPanel::appendLog(const QString &service, const QString &line)
{
    QPlainTextEdit *view = m_logViews.value(service, m_logViews.value(u"pgext"_qs));
    QScrollBar *sb = view->verticalScrollBar();
    const bool atEnd = sb->value() >= sb->maximum() - 2;
    view->appendPlainText(line);
    if (atEnd)
        sb->setValue(sb->maximum());
}

void ServicesPanel::tailPostgresLog()
{
    if (!m_session)
        return;
    // PostgreSQL writes its own log file; follow it like `tail -f` (a few KB per second
    // at most, so reading on this thread is fine).
    QFile f(ProjectSession::logFile(m_session->project(), u"postgres"_qs));
    if (!f.open(QIODevice::ReadOnly))
        return;
    const qint64 size = f.size();
    if (m_postgresLogPos < 0 || size < m_postgresLogPos)
        m_postgresLogPos = qMax<qint64>(0, size - 16 * 1024); // start with the last lines
    if (size == m_postgresLogPos)
        return;
    f.seek(m_postgresLogPos);
    const QByteArray chunk = f.read(qMin<qint64>(size - m_postgresLogPos, 256 * 1024));
    const qsizetype lastNl = chunk.lastIndexOf('\n');
    if (lastNl < 0)
        return;
    m_postgresLogPos += lastNl + 1;
    for (const QByteArray &line : chunk.left(lastNl).split('\n'))
        appendLog(u"postgres"_qs, QString::fromUtf8(line));
}

void ServicesPanel::refresh()
{
    if (!m_session)
        return;
    const Core::Manifest &m = m_session->project().manifest();
    using P = ProjectSession::StackPhase;
    const P phase = m_session->stackPhase();
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_tree->topLevelItem(i);
        const QString name = item->data(NameCol, Qt::UserRole).toString();
        QString state, pid, info;
        int port = 0;
        if (name == u"postgres"_qs) {
            port = m.localPort;
            const auto st = m_session->databaseState();
            using D = ProjectSession::DbState;
            state = st == D::Running ? u"healthy"_qs
                    : st == D::Starting ? u"starting"_qs
                    : st == D::Stopping ? u"stopping"_qs
                    : st == D::Failed ? u"failed"_qs
                                      : u"stopped"_qs;
            info = m_session->databaseDetail();
            if (!m_session->isLocalCluster())
                port = 0, info = m_session->connection().display;
        } else {
            port = name == u"postgrest"_qs ? m.postgrestPort : m.realtimePort;
            if (Core::Service *s = m_session->service(name)) {
                state = Core::Service::stateName(s->state());
                if (s->pid() > 0)
                    pid = QString::number(s->pid());
                if (s->state() == Core::Service::State::Failed)
                    info = s->lastError().headline();
                else if (s->restartCount() > 0)
                    info = tr("%n restart(s)", nullptr, s->restartCount());
                else
                    info = QFileInfo(s->spec().program).fileName();
            } else {
                state = phase == P::Preparing ? u"starting"_qs : u"stopped"_qs;
                info = phase == P::Preparing ? tr("waiting for PostgreSQL and migrations") : QString();
            }
        }
        item->setText(StateCol, state);
        item->setIcon(StateCol, stateIcon(state));
        item->setText(PortCol, port ? QString::number(port) : QString());
        item->setText(PidCol, pid);
        item->setText(InfoCol, info);
        item->setToolTip(InfoCol, info);
    }
    for (int c = 0; c < ColumnCount - 1; ++c)
        m_tree->resizeColumnToContents(c);
    m_startAll->setEnabled(phase == P::Off);
    m_stopAll->setEnabled(phase != P::Stopping);
    if (phase == P::Running || phase == P::Starting) {
        m_urls->setText(tr("API <a href='http://127.0.0.1:%1/'>http://127.0.0.1:%1</a> · realtime ws://127.0.0.1:%2")
                            .arg(m.postgrestPort).arg(m.realtimePort)
                        + (m_session->devStack() && m_session->devStack()->isServingFrontend()
                               ? tr(" · app <a href='%1'>%1</a>").arg(m_session->devStack()->frontendUrl())
                               : QString()));
    } else {
        m_urls->clear();
    }
}

} // namespace Studio
