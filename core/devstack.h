#pragma once

#include "migrator.h"
#include "project.h"
#include "result.h"
#include "servicesupervisor.h"

#include <QElapsedTimer>
#include <QObject>

#include <atomic>

#include <functional>
#include <memory>

class QLockFile;

namespace Core {

class PgConnection;
class StaticFileServer;

// The local development stack of one project — what `pgext dev` and the studio run:
// the project's PostgreSQL cluster (left running on stop, like `pgext db:start`), the
// database with pg_events (+ pgext_audit when installed), schema/migrations/functions,
// the manifest's tracked tables, then PostgREST and pg_events_ws as supervised children
// and frontend/ on a static file server. One stack per project (.pgext/dev.lock).
//
// prepare() is blocking and uses no QObject, so the studio can run it on a worker
// thread; startServices() and everything after it run in this object's event loop.
class DevStack : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString postgrestBinary;   // empty: $PGEXT_POSTGREST, .deps/, $PATH
        QString realtimeBinary;    // empty: $PGEXT_REALTIME, next to the program, build tree, $PATH
        bool postgrest = true;
        bool realtime = true;
        bool frontend = true;
        int startTimeoutMs = 20000;
        std::function<void(const QString &)> progress; // one line per step
    };
    struct Timings
    {
        bool clusterWasRunning = false;
        qint64 clusterMs = 0;      // LocalCluster::start
        qint64 databaseMs = 0;     // database, extensions, secret
        qint64 migrateMs = 0;      // migrations + tracking
        qint64 servicesMs = 0;     // launch → every service healthy
        qint64 totalMs = 0;        // prepare() → every service healthy
    };

    DevStack(Project project, Options options, QObject *parent = nullptr);
    ~DevStack() override; // stops the services and releases the lock

    // Lock, then every check that needs no change (JWT secret, programs, ports, project
    // files) so a bad input changes nothing; then cluster, database, extensions, the
    // signing secret, migrations and tracking.
    Status prepare();
    // Starts the services (asynchronous): ready() or failed().
    Status startServices();
    // Thread-safe: prepare() stops at its next step (before the cluster, the database,
    // each migration file) with an Error of kind Cancelled, releasing the lock.
    void requestCancel() { m_cancel = true; }
    // prepare() + startServices() + waiting for ready/failed: for the CLI and tests.
    Status start();
    // Applies changed schema/migrations/functions while the services keep running, then
    // re-tracks the manifest's tables and asks PostgREST to reload its schema cache.
    Result<Migrator::Report> reapply();
    // Stops the services and the frontend server and releases the lock (blocking).
    // PostgreSQL keeps running.
    void stop();
    Status stopDatabase();
    // Did prepare() start the cluster (it was not running before)? Then stopping what
    // `pgext dev` or the studio started includes it.
    bool startedCluster() const { return m_startedCluster; }

    const Project &project() const { return m_project; }
    ServiceSupervisor *supervisor() const { return m_supervisor; }
    const Timings &timings() const { return m_timings; }
    bool isServingFrontend() const;

    QString postgrestUrl() const;
    QString realtimeUrl() const;
    QString frontendUrl() const;
    QString databaseUrl() const;
    // Files and folders whose changes call for reapply().
    QStringList watchedPaths() const;

    static Result<QString> findPostgrest(const QString &preferred = {});
    static Result<QString> findRealtime(const QString &preferred = {});
    // JWT_SECRET from .env: present and at least 32 characters.
    static Result<QByteArray> jwtSecret(const Project &project, const QString &envFileName = u".env"_qs);
    static Result<QByteArray> checkJwtSecret(const QMap<QString, QString> &env, const QString &envFileName);
    // "postgres", "postgrest" or "realtime" → its log file.
    static QString logFile(const Project &project, const QString &component);
    static QString lockFilePath(const Project &project);
    // The role `pgext token` puts in tokens when none is given (the template's signed-in role).
    static QString defaultTokenRole(const Project &project);
    // The anonymous role from postgrest.conf's db-anon-role ("web_anon" when unset).
    static QString anonRole(const Project &project);
    // postgrest.conf's db-pre-request ("" when unset): pg_events_ws runs it too.
    static QString preRequest(const Project &project);
    static QString slotName(const Project &project);
    static QByteArray configJs(const QString &postgrestUrl, const QString &realtimeUrl);

    // Shared with `pgext deploy`: pg_events (required), pgext_audit (when the server has
    // it); the signing secret in pgext.settings; the manifest's tables tracked.
    static Result<QStringList> ensureExtensions(PgConnection &conn, bool dryRun);
    static Status storeJwtSecret(PgConnection &conn, const QByteArray &secret);
    static Result<QStringList> ensureTracking(PgConnection &conn, const Project &project, bool dryRun);

Q_SIGNALS:
    void ready();
    void failed(const Core::Error &error);
    void logLine(const QString &service, const QString &line);

private:
    void progress(const QString &line) const;
    Status acquireLock();
    Status checkPorts() const;
    QString localConninfo() const;

    Project m_project;
    Options m_options;
    std::atomic<bool> m_cancel{false};
    QString m_postgrest;
    QString m_realtime;
    QByteArray m_secret;
    QString m_socketDir;
    int m_clusterPort = 0;
    QString m_clusterConninfo;
    QString m_clusterUrl;
    std::unique_ptr<QLockFile> m_lock;
    ServiceSupervisor *m_supervisor = nullptr;
    StaticFileServer *m_frontend = nullptr;
    Timings m_timings;
    QElapsedTimer m_clock;          // since prepare()
    qint64 m_servicesStartedMs = 0;
    bool m_prepared = false;
    std::atomic<bool> m_startedCluster{false}; // written by prepare() on a worker thread
};

} // namespace Core
