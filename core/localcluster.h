#pragma once

#include "osuser.h"
#include "pgbinaries.h"
#include "result.h"

#include <QString>
#include <QStringList>

namespace Core {

class Project;

// A project-local PostgreSQL cluster: initdb / start / stop / status, configured for
// logical decoding (wal_level=logical, slots, senders, pg_events allowed as an output
// plugin), listening on a unix socket and 127.0.0.1:<port>. The CLI, the studio and
// every database test go through this one class.
class LocalCluster
{
public:
    struct Options
    {
        QString dataDir;
        QString socketDir;
        QString logFile;
        int port = 54329;
        QString binDir;          // empty: PgBinaries::locate()
        QString superuser = u"postgres"_qs;
        QString superuserPassword; // for TCP logins; the unix socket trusts local users
        bool durable = true;     // false: fsync off etc., for throwaway test clusters
        QStringList extraSettings; // "name = value" lines appended to the config
    };

    enum class State { NotInitialized, Stopped, Running };

    // Paths for a project: .pgext/data, .pgext/run, .pgext/logs/postgres.log — moved to
    // a place the `postgres` user can reach when the project folder is closed to it.
    static Result<LocalCluster> forProject(const Project &project);
    static Result<LocalCluster> create(Options options);

    const Options &options() const { return m_options; }
    const OsUser &user() const { return m_user; }
    const PgBinaries &binaries() const { return m_binaries; }

    State state() const;
    static QString stateName(State state);
    // PID of the running postmaster, 0 if none.
    qint64 pid() const;

    Status initialize();                       // initdb when needed
    Status start(int timeoutSeconds = 60);     // initialize + start, idempotent
    Status stop(int timeoutSeconds = 60);      // fast shutdown, idempotent

    // libpq conninfo over the unix socket as the superuser.
    QString conninfo(const QString &database = u"postgres"_qs) const;
    // The URL a developer pastes into psql or another tool (TCP with the password when
    // one is set, else the unix socket). The password is masked unless asked for.
    QString url(const QString &database, bool withPassword = false) const;

    // Whether this server has `output_plugin_libraries` (patched 15.x builds do).
    static Result<bool> hasOutputPluginLibraries(const PgBinaries &binaries, QString *bootValue = nullptr);

private:
    Status writeConfig();
    Status checkPortFree() const;
    Status clearStalePidFile() const;
    Result<QString> run(const QString &program, const QStringList &args, int timeoutMs) const;

    Options m_options;
    OsUser m_user;
    PgBinaries m_binaries;
};

} // namespace Core
