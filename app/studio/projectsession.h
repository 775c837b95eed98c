#pragma once

#include "asyncconnection.h"
#include "connectionsettings.h"
#include "devstack.h"
#include "migrator.h"
#include "project.h"
#include "service.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>
#include <mutex>

class QNetworkAccessManager;
class QTimer;

struct pg_cancel;

namespace Studio {

// Everything the studio does with one open project, on top of core/: the database state,
// the asynchronous connections for queries and the catalog, migrations (plan, apply,
// dry run, cancel) and the local services (Core::DevStack). Blocking core/ calls run on
// the worker pool; results come back as signals on the GUI thread.
class ProjectSession : public QObject
{
    Q_OBJECT
public:
    enum class DbState { Unknown, Stopped, Starting, Running, Stopping, Failed };
    Q_ENUM(DbState)
    enum class StackPhase { Off, Preparing, Starting, Running, Stopping };
    Q_ENUM(StackPhase)

    static Core::Result<Core::Project> load(const QString &root);
    explicit ProjectSession(Core::Project project, QObject *parent = nullptr);
    ~ProjectSession() override;

    const Core::Project &project() const { return m_project; }
    const Core::ConnectionSettings &connection() const { return m_settings; }
    bool isLocalCluster() const { return m_settings.isLocalCluster(); }
    QString name() const { return m_project.manifest().name; }

    // --- database
    DbState databaseState() const { return m_dbState; }
    static QString stateName(DbState state);
    QString databaseDetail() const { return m_dbDetail; }
    void refreshDatabaseState();
    void startDatabase();
    void stopDatabase();
    // Runs `then` (on the GUI thread) once the database accepts connections, starting the
    // local cluster and creating the database when needed.
    void whenDatabaseReady(QObject *context, std::function<void(const Core::Status &)> then);

    // --- user queries (never on the GUI thread's time: AsyncConnection)
    void runQuery(const QString &sql, std::function<void(Core::AsyncReply &)> done);
    void cancelQuery();
    bool isQueryRunning() const { return m_queryRunning; }

    // --- catalog for completion
    void refreshCatalog();
    const QStringList &catalogWords() const { return m_catalogWords; }

    // --- migrations
    void refreshPlan();
    void applyMigrations(bool dryRun);
    void cancelMigrations();
    bool isMigrating() const { return m_migrating; }
    const std::optional<Core::MigrationPlan> &lastPlan() const { return m_plan; }

    // --- services
    StackPhase stackPhase() const { return m_phase; }
    Core::DevStack *devStack() const { return m_stack; }
    Core::Service *service(const QString &name) const;
    void startServices();
    // Stops PostgREST and pg_events_ws, then PostgreSQL when `database` is set.
    void stopServices(bool database = true);
    void startService(const QString &name);
    void stopService(const QString &name);
    void restartService(const QString &name);
    bool isAllHealthy() const;
    static QString logFile(const Core::Project &project, const QString &component);

    qint64 replicationLag() const { return m_lag; } // bytes; -1 unknown

    // Blocks until workers finished (used on exit and by tests).
    static void waitForWorkers(int ms = 30000);

Q_SIGNALS:
    void databaseStateChanged(Studio::ProjectSession::DbState state);
    void queryStateChanged(bool running);
    void catalogChanged(const QStringList &words);
    void planReady(const Core::MigrationPlan &plan);
    void planFailed(const Core::Error &error);
    void migrationStarted(bool dryRun);
    void migrationProgress(const QString &line);
    void migrationsApplied(const Core::Migrator::Report &report);
    void dryRunReady(const Core::MigrationPlan &plan);
    void migrationsFailed(const Core::Error &error);
    void stackPhaseChanged(Studio::ProjectSession::StackPhase phase);
    void serviceStateChanged(const QString &service);
    void serviceLog(const QString &service, const QString &line);
    void servicesReady();
    void servicesFailed(const Core::Error &error);
    void lagChanged(qint64 bytes);

private:
    void setDbState(DbState state, const QString &detail = {});
    void openConnections();
    void closeConnections();
    void setPhase(StackPhase phase);
    void teardownStack();
    void pollLag();
    void relay(const QString &service, const QString &line);

    Core::Project m_project;
    Core::ConnectionSettings m_settings;
    DbState m_dbState = DbState::Unknown;
    QString m_dbDetail;
    bool m_dbStarting = false;
    std::vector<std::pair<QPointer<QObject>, std::function<void(const Core::Status &)>>> m_waiting;

    Core::AsyncConnection *m_queryConn = nullptr;
    Core::AsyncConnection *m_metaConn = nullptr;
    bool m_queryRunning = false;
    QElapsedTimer m_connectionFailed;
    QStringList m_catalogWords;

    bool m_migrating = false;
    std::optional<Core::MigrationPlan> m_plan;
    // PQcancel handle of the migration connection, published by the worker.
    struct CancelSlot
    {
        std::mutex mutex;
        pg_cancel *handle = nullptr;
        bool cancelled = false;
    };
    std::shared_ptr<CancelSlot> m_cancel;

    Core::DevStack *m_stack = nullptr;
    StackPhase m_phase = StackPhase::Off;
    bool m_stopAfterPrepare = false;
    bool m_stopDatabaseAfter = false;

    QTimer *m_poll = nullptr;
    QNetworkAccessManager *m_network = nullptr;
    qint64 m_lag = -1;
};

} // namespace Studio
