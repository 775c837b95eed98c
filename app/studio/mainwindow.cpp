#include "mainwindow.h"

#include "editorarea.h"
#include "findbar.h"
#include "migrationspanel.h"
#include "newprojectwizard.h"
#include "projectexplorer.h"
#include "projectsession.h"
#include "resultsgrid.h"
#include "scaffold.h"
#include "servicespanel.h"
#include "settingsdialog.h"
#include "sqleditor.h"
#include "sqlsplitter.h"
#include "statusbarwidgets.h"
#include "studiologging.h"
#include "studiosettings.h"
#include "theme.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDirIterator>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QVBoxLayout>

namespace Studio {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(tr("pgext Studio"));
    setDockNestingEnabled(true);
    m_center = new QStackedWidget(this);
    m_center->addWidget(buildWelcome());
    m_editors = new EditorArea(m_center);
    m_center->addWidget(m_editors);
    setCentralWidget(m_center);
    buildDocks();
    buildActions();

    m_dbStatus = new DatabaseStatusWidget(this);
    m_lag = new ReplicationLagWidget(this);
    m_task = new TaskWidget(this);
    m_projectLabel = new QLabel(this);
    statusBar()->addWidget(m_projectLabel);
    statusBar()->addPermanentWidget(m_task);
    statusBar()->addPermanentWidget(m_dbStatus);
    statusBar()->addPermanentWidget(m_lag);

    connect(m_explorer, &ProjectExplorer::fileActivated, this, [this](const QString &path) { openInEditor(path); });
    connect(m_results, &ResultsGrid::cancelRequested, this, &MainWindow::cancelSql);
    connect(m_migrations, &MigrationsPanel::applyRequested, this, &MainWindow::applyMigrations);
    connect(m_migrations, &MigrationsPanel::dryRunRequested, this, &MainWindow::dryRun);
    connect(m_migrations, &MigrationsPanel::newMigrationRequested, this, [this] { newMigration(); });
    connect(m_migrations, &MigrationsPanel::newFunctionRequested, this, [this] { newFunction(); });
    connect(m_migrations, &MigrationsPanel::openFileRequested, this, [this](const QString &rel) {
        if (m_session)
            openInEditor(m_session->project().path(rel));
    });
    connect(m_task, &TaskWidget::cancelRequested, this, [this] {
        if (!m_session)
            return;
        if (m_session->isQueryRunning())
            m_session->cancelQuery();
        if (m_session->isMigrating())
            m_session->cancelMigrations();
    });

    resize(1440, 900);
    m_defaultState = saveState();
    const StudioSettings &s = StudioSettings::instance();
    if (!s.windowGeometry().isEmpty())
        restoreGeometry(s.windowGeometry());
    if (!s.windowState().isEmpty())
        restoreState(s.windowState());
    applyAppearance();
    updateRecentMenu();
    updateActions();
}

MainWindow::~MainWindow()
{
    delete m_session; // waits for workers; stops PostgREST/pg_events_ws if still running
    m_session = nullptr;
}

QWidget *MainWindow::buildWelcome()
{
    auto *page = new QWidget(this);
    auto *outer = new QVBoxLayout(page);
    outer->addStretch(1);
    auto *box = new QWidget(page);
    box->setMaximumWidth(560);
    auto *v = new QVBoxLayout(box);
    auto *title = new QLabel(tr("<h1>pgext Studio</h1><p>Schema, functions, migrations and the local stack "
                                "(PostgreSQL, PostgREST, pg_events_ws) of a pgext project.</p>"), box);
    title->setWordWrap(true);
    v->addWidget(title);
    auto *buttons = new QHBoxLayout;
    auto *create = new QPushButton(tr("New Project…"), box);
    auto *open = new QPushButton(tr("Open Project…"), box);
    buttons->addWidget(create);
    buttons->addWidget(open);
    buttons->addStretch(1);
    v->addLayout(buttons);
    v->addWidget(new QLabel(tr("Recent projects"), box));
    m_recentList = new QListWidget(box);
    v->addWidget(m_recentList);
    auto *h = new QHBoxLayout;
    h->addStretch(1);
    h->addWidget(box, 2);
    h->addStretch(1);
    outer->addLayout(h);
    outer->addStretch(2);
    connect(create, &QPushButton::clicked, this, &MainWindow::newProject);
    connect(open, &QPushButton::clicked, this, &MainWindow::openProjectDialog);
    connect(m_recentList, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        if (Core::Status s = openProject(item->data(Qt::UserRole).toString()); !s)
            QMessageBox::warning(this, tr("Cannot open the project"), s.error().toString());
    });
    return page;
}

void MainWindow::buildDocks()
{
    auto makeDock = [this](const QString &title, const QString &name, QWidget *content, Qt::DockWidgetArea area) {
        auto *dock = new QDockWidget(title, this);
        dock->setObjectName(name);
        dock->setWidget(content);
        dock->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
        addDockWidget(area, dock);
        return dock;
    };
    m_explorer = new ProjectExplorer(this);
    m_results = new ResultsGrid(this);
    m_migrations = new MigrationsPanel(this);
    m_services = new ServicesPanel(this);
    QDockWidget *project = makeDock(tr("Project"), u"ProjectDock"_qs, m_explorer, Qt::LeftDockWidgetArea);
    QDockWidget *results = makeDock(tr("Results"), u"ResultsDock"_qs, m_results, Qt::BottomDockWidgetArea);
    QDockWidget *migrations = makeDock(tr("Migrations"), u"MigrationsDock"_qs, m_migrations, Qt::BottomDockWidgetArea);
    QDockWidget *services = makeDock(tr("Services"), u"ServicesDock"_qs, m_services, Qt::BottomDockWidgetArea);
    tabifyDockWidget(results, migrations);
    tabifyDockWidget(migrations, services);
    results->raise();
    resizeDocks({project}, {260}, Qt::Horizontal);
    resizeDocks({results}, {330}, Qt::Vertical);
}

QDockWidget *MainWindow::dock(const QString &objectName) const
{
    return findChild<QDockWidget *>(objectName);
}

void MainWindow::buildActions()
{
    QStyle *st = style();
    auto action = [this](const QString &text, const QKeySequence &key, auto slot, const QIcon &icon = {}) {
        auto *a = new QAction(icon, text, this);
        if (!key.isEmpty())
            a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(action(tr("&New Project…"), QKeySequence(u"Ctrl+Shift+N"_qs), &MainWindow::newProject));
    file->addAction(action(tr("&Open Project…"), QKeySequence::Open, &MainWindow::openProjectDialog,
                           st->standardIcon(QStyle::SP_DirOpenIcon)));
    m_recentMenu = file->addMenu(tr("Recent Projects"));
    QAction *closeProject = action(tr("Close Project"), {}, &MainWindow::closeProject);
    file->addAction(closeProject);
    file->addSeparator();
    QAction *newQuery = action(tr("New &Query"), QKeySequence::New, [this] { m_editors->newScratch(); });
    file->addAction(newQuery);
    QAction *newMig = action(tr("New &Migration…"), {}, [this] { newMigration(); });
    QAction *newFn = action(tr("New &Function…"), {}, [this] { newFunction(); });
    file->addAction(newMig);
    file->addAction(newFn);
    file->addSeparator();
    QAction *save = action(tr("&Save"), QKeySequence::Save, [this] {
        if (Core::Status s = m_editors->saveCurrent(); !s)
            QMessageBox::warning(this, tr("Save failed"), s.error().toString());
    }, st->standardIcon(QStyle::SP_DialogSaveButton));
    QAction *saveAll = action(tr("Save A&ll"), QKeySequence(u"Ctrl+Shift+S"_qs), [this] {
        if (Core::Status s = m_editors->saveAll(); !s)
            QMessageBox::warning(this, tr("Save failed"), s.error().toString());
    });
    file->addAction(save);
    file->addAction(saveAll);
    file->addAction(action(tr("Close &Tab"), QKeySequence::Close, [this] { m_editors->closeEditor(m_editors->currentEditor()); }));
    file->addSeparator();
    file->addAction(action(tr("&Quit"), QKeySequence::Quit, [this] { close(); }));

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(action(tr("&Find…"), QKeySequence::Find, [this] { m_editors->findBar()->showFind(false); }));
    edit->addAction(action(tr("&Replace…"), QKeySequence(u"Ctrl+H"_qs), [this] { m_editors->findBar()->showFind(true); }));
    edit->addSeparator();
    edit->addAction(action(tr("&Settings…"), QKeySequence(u"Ctrl+,"_qs), &MainWindow::showSettings));

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    m_runAction = action(tr("&Run SQL"), QKeySequence(u"Ctrl+Return"_qs), &MainWindow::runSql, st->standardIcon(QStyle::SP_MediaPlay));
    m_runAction->setToolTip(tr("Run the selection, or the whole file, against the project's database (Ctrl+Enter)"));
    m_cancelAction = action(tr("&Cancel"), QKeySequence(u"Ctrl+Shift+Return"_qs), &MainWindow::cancelSql,
                            st->standardIcon(QStyle::SP_MediaStop));
    m_applyAction = action(tr("&Apply Migrations"), QKeySequence(u"F5"_qs), &MainWindow::applyMigrations,
                           st->standardIcon(QStyle::SP_ArrowUp));
    m_applyAction->setToolTip(tr("Save all, then apply schema.sql, pending migrations and changed functions (F5)"));
    m_dryRunAction = action(tr("&Dry Run"), QKeySequence(u"Shift+F5"_qs), &MainWindow::dryRun,
                            st->standardIcon(QStyle::SP_FileDialogContentsView));
    run->addAction(m_runAction);
    run->addAction(m_cancelAction);
    run->addSeparator();
    run->addAction(m_applyAction);
    run->addAction(m_dryRunAction);

    QMenu *services = menuBar()->addMenu(tr("&Services"));
    m_startAction = action(tr("&Start All"), {}, &MainWindow::startServices, st->standardIcon(QStyle::SP_MediaSeekForward));
    m_startAction->setToolTip(tr("Start PostgreSQL, PostgREST and pg_events_ws"));
    m_stopAction = action(tr("S&top All"), {}, &MainWindow::stopServices, st->standardIcon(QStyle::SP_BrowserStop));
    m_stopAction->setToolTip(tr("Stop PostgREST, pg_events_ws and PostgreSQL"));
    services->addAction(m_startAction);
    services->addAction(m_stopAction);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (const char *name : {"ProjectDock", "ResultsDock", "MigrationsDock", "ServicesDock"})
        m_viewMenu->addAction(dock(QString::fromLatin1(name))->toggleViewAction());
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(action(tr("Reset &Layout"), {}, &MainWindow::resetLayout));

    auto *bar = addToolBar(tr("Main"));
    bar->setObjectName(u"MainToolBar"_qs);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(16, 16));
    bar->addAction(save);
    bar->addSeparator();
    bar->addAction(m_runAction);
    bar->addAction(m_cancelAction);
    bar->addSeparator();
    bar->addAction(m_applyAction);
    bar->addAction(m_dryRunAction);
    bar->addSeparator();
    bar->addAction(m_startAction);
    bar->addAction(m_stopAction);
    m_projectActions = {closeProject, newQuery, newMig, newFn, save, saveAll, m_runAction, m_applyAction, m_dryRunAction,
                        m_startAction, m_stopAction};
}

void MainWindow::updateActions()
{
    const bool open = m_session != nullptr;
    for (QAction *a : std::as_const(m_projectActions))
        a->setEnabled(open);
    const bool running = open && m_session->isQueryRunning();
    m_runAction->setEnabled(open && !running);
    m_cancelAction->setEnabled(running);
    const bool migrating = open && m_session->isMigrating();
    m_applyAction->setEnabled(open && !migrating);
    m_dryRunAction->setEnabled(open && !migrating);
    using P = ProjectSession::StackPhase;
    m_startAction->setEnabled(open && m_session->stackPhase() == P::Off);
    m_stopAction->setEnabled(open && m_session->stackPhase() != P::Stopping);
    m_center->setCurrentIndex(open ? 1 : 0);
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    m_recentList->clear();
    const QStringList recent = StudioSettings::instance().recentProjects();
    for (const QString &path : recent) {
        QAction *a = m_recentMenu->addAction(path);
        connect(a, &QAction::triggered, this, [this, path] {
            if (Core::Status s = openProject(path); !s)
                QMessageBox::warning(this, tr("Cannot open the project"), s.error().toString());
        });
        auto *item = new QListWidgetItem(u"%1 — %2"_qs.arg(QFileInfo(path).fileName(), path), m_recentList);
        item->setData(Qt::UserRole, path);
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

Core::Status MainWindow::openProject(const QString &path)
{
    auto project = Core::Project::find(QFileInfo(path).absoluteFilePath());
    if (!project)
        return project.error();
    if (m_session) {
        if (!m_editors->maybeCloseAll())
            return Core::Error::make(Core::Error::Kind::Cancelled, tr("cancelled"));
        closeProject();
    }
    m_session = new ProjectSession(std::move(project).value(), this);
    ProjectSession *session = m_session;
    StudioSettings::instance().addRecentProject(session->project().root());
    updateRecentMenu();
    setWindowTitle(tr("%1 — pgext Studio").arg(session->name()));
    m_projectLabel->setText(tr("%1  ·  %2").arg(session->name(), QDir::toNativeSeparators(session->project().root())));
    m_explorer->setRoot(session->project().root());
    m_migrations->setSession(session);
    m_services->setSession(session);
    m_dbStatus->setSession(session);
    m_lag->setSession(session);

    connect(session, &ProjectSession::catalogChanged, m_editors, &EditorArea::setCompletionWords);
    connect(session, &ProjectSession::queryStateChanged, this, [this](bool running) {
        m_results->setRunning(running);
        if (running)
            m_task->start(tr("Running query…"), true);
        else if (!m_session->isMigrating())
            m_task->finish();
        updateActions();
    });
    connect(session, &ProjectSession::migrationStarted, this, [this](bool dryRun) {
        m_task->start(dryRun ? tr("Planning migrations…") : tr("Applying migrations…"), !dryRun);
        updateActions();
    });
    auto migrationDone = [this] {
        m_task->finish();
        updateActions();
    };
    connect(session, &ProjectSession::migrationsApplied, this, [this, migrationDone](const Core::Migrator::Report &r) {
        migrationDone();
        m_editors->clearAllErrors();
        statusBar()->showMessage(r.applied.empty() ? tr("Database is up to date")
                                                   : tr("Applied %n file(s)", nullptr, int(r.applied.size())), 5000);
    });
    connect(session, &ProjectSession::dryRunReady, this, [this, migrationDone] {
        migrationDone();
        dock(u"MigrationsDock"_qs)->raise();
    });
    connect(session, &ProjectSession::migrationsFailed, this, [this, migrationDone](const Core::Error &e) {
        migrationDone();
        if (e.kind == Core::Error::Kind::Cancelled) {
            statusBar()->showMessage(tr("Migration cancelled; its transaction was rolled back"), 5000);
            return;
        }
        showErrorInFile(e);
        dock(u"MigrationsDock"_qs)->raise();
    });
    connect(session, &ProjectSession::stackPhaseChanged, this, [this](ProjectSession::StackPhase phase) {
        using P = ProjectSession::StackPhase;
        if (phase == P::Preparing)
            m_task->start(tr("Starting services…"), false);
        else if (phase == P::Stopping)
            m_task->start(tr("Stopping services…"), false);
        else
            m_task->finish();
        updateActions();
        if (phase == P::Off && m_closing)
            close();
    });
    connect(session, &ProjectSession::servicesFailed, this, [this](const Core::Error &e) {
        m_task->finish();
        if (!showErrorInFile(e))
            statusBar()->showMessage(e.headline(), 10000);
        dock(u"ServicesDock"_qs)->raise();
    });
    connect(session, &ProjectSession::databaseStateChanged, this, [this](ProjectSession::DbState st) {
        if (st == ProjectSession::DbState::Running || st == ProjectSession::DbState::Stopped)
            m_session->refreshPlan();
    });
    session->refreshDatabaseState();
    openFirstFile();
    updateActions();
    Q_EMIT projectOpened();
    return {};
}

void MainWindow::openFirstFile()
{
    // Functions are what people edit most; else the baseline.
    const Core::Project &p = m_session->project();
    QStringList candidates;
    QDirIterator it(p.path(p.manifest().functionsDir), {u"*.sql"_qs}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        candidates << it.next();
    candidates.sort();
    if (candidates.isEmpty() && QFileInfo::exists(p.path(p.manifest().schemaFile)))
        candidates << p.path(p.manifest().schemaFile);
    if (!candidates.isEmpty())
        openInEditor(candidates.first());
}

void MainWindow::closeProject()
{
    if (!m_session)
        return;
    m_editors->closeAll();
    m_migrations->setSession(nullptr);
    m_services->setSession(nullptr);
    m_dbStatus->setSession(nullptr);
    m_lag->setSession(nullptr);
    m_explorer->setRoot({});
    m_results->clear();
    delete m_session;
    m_session = nullptr;
    m_projectLabel->clear();
    setWindowTitle(tr("pgext Studio"));
    updateActions();
}

SqlEditor *MainWindow::openInEditor(const QString &path)
{
    Core::Error error;
    SqlEditor *e = m_editors->openFile(path, &error);
    if (!e)
        QMessageBox::warning(this, tr("Cannot open the file"), error.toString());
    else if (m_session)
        e->setCompletionWords(m_session->catalogWords());
    return e;
}

bool MainWindow::showErrorInFile(const Core::Error &error)
{
    if (!m_session || error.file.isEmpty())
        return false;
    const QString path = QFileInfo(error.file).isAbsolute() ? error.file : m_session->project().path(error.file);
    if (!QFileInfo(path).isFile())
        return false;
    SqlEditor *e = openInEditor(path);
    if (!e)
        return false;
    QString text = error.headline();
    // The annotation is the file:line:col-less message plus hint, like psql shows it.
    text = error.message;
    if (!error.sqlState.isEmpty())
        text += u"  [%1]"_qs.arg(error.sqlState);
    if (!error.detail.isEmpty())
        text += u"\nDETAIL: "_qs + error.detail;
    if (!error.hint.isEmpty())
        text += u"\nHINT: "_qs + error.hint;
    e->showError(qMax(1, error.line), qMax(1, error.column), text);
    e->setFocus();
    statusBar()->showMessage(error.headline(), 10000);
    return true;
}

void MainWindow::runSql()
{
    SqlEditor *editor = m_editors->currentEditor();
    if (!m_session || !editor)
        return;
    qsizetype offset = 0;
    const QString sql = editor->runnableText(&offset);
    if (sql.trimmed().isEmpty())
        return;
    editor->clearErrors();
    dock(u"ResultsDock"_qs)->raise();
    const QString script = editor->text();
    QPointer<SqlEditor> target(editor);
    static const QRegularExpression ddl(u"\\b(create|alter|drop|comment)\\b"_qs, QRegularExpression::CaseInsensitiveOption);
    const bool changesCatalog = ddl.match(sql).hasMatch();
    m_session->runQuery(sql, [this, target, offset, sql, script, changesCatalog](Core::AsyncReply &reply) {
        QString errorText;
        if (reply.error && reply.error->position > 0 && target) {
            const auto [line, column] = Core::SqlSplitter::lineColumn(script, offset, sql, reply.error->position);
            Core::Error e = *reply.error;
            e.file = target->displayName();
            e.line = line;
            e.column = column;
            errorText = e.toString();
            QString annotation = e.message;
            if (!e.hint.isEmpty())
                annotation += u"\nHINT: "_qs + e.hint;
            if (target->text() == script) // not edited meanwhile
                target->showError(line, column, annotation);
        }
        m_results->showReply(reply, errorText);
        if (changesCatalog && !reply.error && m_session)
            m_session->refreshCatalog();
    });
}

void MainWindow::cancelSql()
{
    if (m_session)
        m_session->cancelQuery();
}

void MainWindow::applyMigrations()
{
    if (!m_session || m_session->isMigrating())
        return;
    if (Core::Status s = m_editors->saveAll(); !s) {
        QMessageBox::warning(this, tr("Save failed"), s.error().toString());
        return;
    }
    m_editors->clearAllErrors();
    dock(u"MigrationsDock"_qs)->raise();
    m_session->applyMigrations(false);
}

void MainWindow::dryRun()
{
    if (!m_session || m_session->isMigrating())
        return;
    if (Core::Status s = m_editors->saveAll(); !s) {
        QMessageBox::warning(this, tr("Save failed"), s.error().toString());
        return;
    }
    dock(u"MigrationsDock"_qs)->raise();
    m_session->applyMigrations(true);
}

void MainWindow::newMigration(const QString &givenName)
{
    if (!m_session)
        return;
    QString name = givenName;
    if (name.isEmpty()) {
        bool ok = false;
        name = QInputDialog::getText(this, tr("New Migration"), tr("Name (letters, digits, _):"), QLineEdit::Normal,
                                     u"add_"_qs, &ok);
        if (!ok || name.trimmed().isEmpty())
            return;
    }
    auto file = Core::Scaffold::newMigration(m_session->project(), name.trimmed());
    if (!file) {
        QMessageBox::warning(this, tr("New Migration"), file.error().toString());
        return;
    }
    openInEditor(*file);
    m_session->refreshPlan();
}

void MainWindow::newFunction(const QString &givenName)
{
    if (!m_session)
        return;
    QString name = givenName;
    if (name.isEmpty()) {
        bool ok = false;
        name = QInputDialog::getText(this, tr("New Function"), tr("Function name:"), QLineEdit::Normal, QString(), &ok);
        if (!ok || name.trimmed().isEmpty())
            return;
    }
    auto file = Core::Scaffold::newFunction(m_session->project(), name.trimmed());
    if (!file) {
        QMessageBox::warning(this, tr("New Function"), file.error().toString());
        return;
    }
    openInEditor(*file);
    m_session->refreshPlan();
}

void MainWindow::startServices()
{
    if (!m_session)
        return;
    if (Core::Status s = m_editors->saveAll(); !s) {
        QMessageBox::warning(this, tr("Save failed"), s.error().toString());
        return;
    }
    m_editors->clearAllErrors();
    dock(u"ServicesDock"_qs)->raise();
    m_session->startServices();
}

void MainWindow::stopServices()
{
    if (m_session)
        m_session->stopServices(true);
}

void MainWindow::showSettings()
{
    SettingsDialog dialog(this);
    if (dialog.exec() == QDialog::Accepted)
        applyAppearance();
}

void MainWindow::applyAppearance()
{
    const StudioSettings &s = StudioSettings::instance();
    applyTheme(s.theme());
    m_editors->setDark(isDarkTheme());
    m_editors->setEditorFont(s.editorFont());
}

void MainWindow::newProject()
{
    NewProjectWizard wizard(this);
    if (wizard.exec() != QDialog::Accepted)
        return;
    if (Core::Status s = openProject(wizard.projectDirectory()); !s)
        QMessageBox::warning(this, tr("Cannot open the project"), s.error().toString());
}

void MainWindow::openProjectDialog()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a pgext project (the folder with pgext.toml)"),
                                                          m_session ? m_session->project().root() : QDir::homePath());
    if (dir.isEmpty())
        return;
    if (Core::Status s = openProject(dir); !s)
        QMessageBox::warning(this, tr("Cannot open the project"), s.error().toString());
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState);
    for (QDockWidget *d : findChildren<QDockWidget *>())
        d->show();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!m_closing && !m_editors->maybeCloseAll()) {
        event->ignore();
        return;
    }
    StudioSettings::instance().setWindowLayout(saveGeometry(), saveState());
    StudioSettings::instance().sync();
    // PostgREST and pg_events_ws stop with the studio; stop them without freezing the window.
    // PostgreSQL stops too when the studio started it (stopServices() knows); one that was
    // running before keeps running.
    if (m_session && m_session->stackPhase() != ProjectSession::StackPhase::Off) {
        if (!m_closing) {
            m_closing = true;
            m_session->stopServices(false);
        }
        hide();
        event->ignore();
        return;
    }
    event->accept();
}

} // namespace Studio
