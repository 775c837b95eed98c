#pragma once

#include "error.h"
#include "result.h"

#include <QMainWindow>
#include <QPointer>

class QAction;
class QDockWidget;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;

namespace Studio {

class DatabaseStatusWidget;
class EditorArea;
class MigrationsPanel;
class ProjectExplorer;
class ProjectSession;
class ReplicationLagWidget;
class ResultsGrid;
class ServicesPanel;
class SqlEditor;
class TaskWidget;

// The studio's window: project explorer, SQL editors, results, migrations and services in
// docks whose layout is remembered; File/Edit/Run/Services/View menus.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens the project at `path` (or the one above it); replaces the open one.
    Core::Status openProject(const QString &path);
    void closeProject();
    ProjectSession *session() const { return m_session; }

    EditorArea *editors() const { return m_editors; }
    ResultsGrid *results() const { return m_results; }
    MigrationsPanel *migrations() const { return m_migrations; }
    ServicesPanel *services() const { return m_services; }
    ProjectExplorer *explorer() const { return m_explorer; }
    DatabaseStatusWidget *databaseStatus() const { return m_dbStatus; }
    ReplicationLagWidget *lagStatus() const { return m_lag; }
    QDockWidget *dock(const QString &objectName) const;

    // The actions, for menus, toolbars and tests.
    void runSql();
    void cancelSql();
    void applyMigrations();
    void dryRun();
    void newMigration(const QString &name = {});
    void newFunction(const QString &name = {});
    void startServices();
    void stopServices();
    void showSettings();
    void newProject();
    void openProjectDialog();
    void resetLayout();
    void applyAppearance();

    // Opens `error.file` and marks the line; false if the error names no file.
    bool showErrorInFile(const Core::Error &error);

Q_SIGNALS:
    void projectOpened();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildDocks();
    QWidget *buildWelcome();
    void updateRecentMenu();
    void updateActions();
    void openFirstFile();
    SqlEditor *openInEditor(const QString &path);

    ProjectSession *m_session = nullptr;
    QStackedWidget *m_center = nullptr;
    QListWidget *m_recentList = nullptr;
    EditorArea *m_editors = nullptr;
    ProjectExplorer *m_explorer = nullptr;
    ResultsGrid *m_results = nullptr;
    MigrationsPanel *m_migrations = nullptr;
    ServicesPanel *m_services = nullptr;
    DatabaseStatusWidget *m_dbStatus = nullptr;
    ReplicationLagWidget *m_lag = nullptr;
    TaskWidget *m_task = nullptr;
    QLabel *m_projectLabel = nullptr;
    QMenu *m_recentMenu = nullptr;
    QMenu *m_viewMenu = nullptr;
    QByteArray m_defaultState;
    bool m_closing = false;

    QAction *m_runAction = nullptr;
    QAction *m_cancelAction = nullptr;
    QAction *m_applyAction = nullptr;
    QAction *m_dryRunAction = nullptr;
    QAction *m_startAction = nullptr;
    QAction *m_stopAction = nullptr;
    QList<QAction *> m_projectActions;
};

} // namespace Studio
