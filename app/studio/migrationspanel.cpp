#include "migrationspanel.h"

#include "panelwidgets.h"
#include "projectsession.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSplitter>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Studio {

namespace {
enum Column { StateCol, FileCol, KindCol, VersionCol, ChecksumCol, AppliedCol, DurationCol, ColumnCount };

QColor stateColour(Core::MigrationState::State s)
{
    using S = Core::MigrationState::State;
    switch (s) {
    case S::Applied: return QColor(0x2d, 0xa4, 0x4e);
    case S::Pending: return QColor(0x3b, 0x82, 0xf6);
    case S::Modified: return QColor(0xe3, 0x8b, 0x06);
    case S::Failed: return QColor(0xd7, 0x3a, 0x49);
    case S::Missing: return QColor(0x9a, 0x4d, 0xd0);
    case S::OutOfOrder: return QColor(0xd7, 0x3a, 0x49);
    }
    return {};
}

} // namespace

MigrationsPanel::MigrationsPanel(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 3, 6, 3);
    auto button = [this, bar](const QString &text, const QString &tip) { return addBarButton(this, bar, text, tip); };
    m_apply = button(tr("Apply"), tr("Save all files, then apply schema.sql, pending migrations and changed functions (F5)"));
    m_dryRun = button(tr("Dry run"), tr("Show what Apply would do, change nothing"));
    m_cancel = button(tr("Cancel"), tr("Cancel the running migration (its transaction is rolled back)"));
    m_refresh = button(tr("Refresh"), tr("Compare the files with the database's history again"));
    bar->addSpacing(12);
    m_newMigration = button(tr("New migration…"), tr("migrations/<timestamp>_<name>.sql"));
    m_newFunction = button(tr("New function…"), tr("functions/<name>.sql"));
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 0);
    m_progress->setMaximumWidth(140);
    m_progress->setMaximumHeight(14);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_message = new QLabel(this);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bar->addSpacing(12);
    bar->addWidget(m_progress);
    bar->addWidget(m_message, 1);
    layout->addLayout(bar);

    auto *split = new QSplitter(Qt::Horizontal, this);
    m_tree = new QTreeWidget(split);
    m_tree->setColumnCount(ColumnCount);
    m_tree->setHeaderLabels({tr("State"), tr("File"), tr("Kind"), tr("Version"), tr("Checksum"), tr("Applied at"), tr("Time")});
    m_tree->setRootIsDecorated(false);
    m_tree->setAlternatingRowColors(true);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(FileCol, QHeaderView::Stretch);
    m_log = new QPlainTextEdit(split);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setPlaceholderText(tr("Apply and dry-run output"));
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_apply, &QToolButton::clicked, this, &MigrationsPanel::applyRequested);
    connect(m_dryRun, &QToolButton::clicked, this, &MigrationsPanel::dryRunRequested);
    connect(m_newMigration, &QToolButton::clicked, this, &MigrationsPanel::newMigrationRequested);
    connect(m_newFunction, &QToolButton::clicked, this, &MigrationsPanel::newFunctionRequested);
    connect(m_cancel, &QToolButton::clicked, this, [this] {
        if (m_session)
            m_session->cancelMigrations();
    });
    connect(m_refresh, &QToolButton::clicked, this, [this] {
        m_errorShown = false;
        if (m_session)
            m_session->refreshPlan();
    });
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        Q_EMIT openFileRequested(item->text(FileCol));
    });
    setBusy(false);
}

void MigrationsPanel::setSession(ProjectSession *session)
{
    m_session = session;
    m_tree->clear();
    m_log->clear();
    m_message->clear();
    setEnabled(session != nullptr);
    if (!session)
        return;
    connect(session, &ProjectSession::planReady, this, &MigrationsPanel::showPlan);
    connect(session, &ProjectSession::planFailed, this, &MigrationsPanel::showError);
    connect(session, &ProjectSession::migrationStarted, this, [this](bool dryRun) {
        m_errorShown = false;
        m_log->appendPlainText(dryRun ? tr("— dry run —") : tr("— apply —"));
        setBusy(true, dryRun ? tr("Planning…") : tr("Applying…"));
    });
    connect(session, &ProjectSession::migrationProgress, this, [this](const QString &line) {
        m_log->appendPlainText(line);
        m_message->setText(line);
    });
    connect(session, &ProjectSession::migrationsApplied, this, [this](const Core::Migrator::Report &report) {
        setBusy(false);
        const QString text = report.applied.empty() ? tr("Nothing to apply: the database is up to date.")
                                                    : tr("Applied %n file(s) in %1 ms.", nullptr, int(report.applied.size()))
                                                          .arg(report.elapsedMs);
        m_log->appendPlainText(text);
        m_message->setText(text);
    });
    connect(session, &ProjectSession::dryRunReady, this, [this](const Core::MigrationPlan &plan) {
        setBusy(false);
        if (plan.toApply.empty())
            m_log->appendPlainText(tr("nothing to apply: the database is up to date"));
        for (const Core::MigrationFile &f : plan.toApply)
            m_log->appendPlainText(u"  apply  %1  (%2%3)"_qs.arg(f.path, Core::MigrationFile::kindName(f.kind),
                                                                 f.noTransaction ? tr(", no transaction") : QString()));
        const QString text = tr("Dry run: %n file(s) would be applied. Nothing was changed.", nullptr, int(plan.toApply.size()));
        m_log->appendPlainText(text);
        m_message->setText(text);
    });
    connect(session, &ProjectSession::migrationsFailed, this, [this](const Core::Error &e) {
        setBusy(false);
        showError(e);
    });
    session->refreshPlan();
}

void MigrationsPanel::setBusy(bool busy, const QString &what)
{
    m_progress->setVisible(busy);
    m_cancel->setEnabled(busy);
    m_apply->setEnabled(!busy);
    m_dryRun->setEnabled(!busy);
    if (busy)
        m_message->setText(what);
}

void MigrationsPanel::showError(const Core::Error &error)
{
    m_log->appendPlainText(error.toString());
    m_errorShown = true;
    m_message->setText(u"<span style='color:#d73a49'>%1</span>"_qs.arg(error.headline().toHtmlEscaped()));
}

QString MigrationsPanel::message() const
{
    return m_message->text();
}

void MigrationsPanel::showPlan(const Core::MigrationPlan &plan)
{
    const QString selected = m_tree->currentItem() ? m_tree->currentItem()->text(FileCol) : QString();
    m_tree->clear();
    const bool known = m_session && m_session->databaseState() == ProjectSession::DbState::Running;
    QMap<QString, int> counts;
    for (const Core::MigrationState &s : plan.states) {
        auto *item = new QTreeWidgetItem(m_tree);
        const QString state = Core::MigrationState::stateName(s.state);
        counts[state]++;
        item->setText(StateCol, state);
        item->setIcon(StateCol, stateDot(stateColour(s.state)));
        item->setText(FileCol, s.path);
        item->setText(KindCol, Core::MigrationFile::kindName(s.kind));
        item->setText(VersionCol, s.version);
        item->setText(ChecksumCol, s.checksum.left(12));
        QString tip = tr("on disk: %1").arg(s.checksum.isEmpty() ? tr("(missing)") : s.checksum);
        if (!s.appliedChecksum.isEmpty())
            tip += u'\n' + tr("applied: %1").arg(s.appliedChecksum);
        item->setToolTip(ChecksumCol, tip);
        item->setFont(ChecksumCol, QFont(u"monospace"_qs));
        if (s.appliedAt.isValid()) {
            item->setText(AppliedCol, s.appliedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_qs));
            item->setText(DurationCol, tr("%1 ms").arg(s.executionMs));
        }
        item->setTextAlignment(DurationCol, Qt::AlignRight | Qt::AlignVCenter);
        if (s.path == selected)
            m_tree->setCurrentItem(item);
    }
    for (int c = 0; c < ColumnCount; ++c)
        if (c != FileCol)
            m_tree->resizeColumnToContents(c);
    if ((m_session && m_session->isMigrating()) || m_errorShown)
        return; // keep the progress line or the last error in view until the next run
    QStringList summary;
    for (auto it = counts.constBegin(); it != counts.constEnd(); ++it)
        summary << u"%1 %2"_qs.arg(it.value()).arg(it.key());
    if (plan.problem)
        showError(*plan.problem);
    else if (!known)
        m_message->setText(tr("%1 — database not running: states are what Apply would do").arg(summary.join(u", "_qs)));
    else
        m_message->setText(summary.isEmpty() ? tr("No files: add schema.sql, migrations/ or functions/.") : summary.join(u", "_qs));
}

QString MigrationsPanel::stateOf(const QString &path) const
{
    const auto items = m_tree->findItems(path, Qt::MatchExactly, FileCol);
    return items.isEmpty() ? QString() : items.first()->text(StateCol);
}

} // namespace Studio
