#include "localcluster.h"

#include "logging.h"
#include "pgconnection.h"
#include "project.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSaveFile>
#include <QTcpServer>
#include <QThread>
#include <QUrl>

#include <csignal>

namespace Core {

// Socket paths are limited to ~107 bytes including "/.s.PGSQL.65535".
static constexpr int MaxSocketDirLength = 90;

static QString shortHash(const QString &text)
{
    return QString::fromLatin1(QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha1).toHex().left(12));
}

Result<LocalCluster> LocalCluster::forProject(const Project &project)
{
    Options o;
    const QString state = project.stateDir();
    o.dataDir = QDir(state).filePath(u"data"_qs);
    o.socketDir = QDir(state).filePath(u"run"_qs);
    o.logFile = QDir(state).filePath(u"logs/postgres.log"_qs);
    o.port = project.manifest().localPort;
    o.binDir = project.manifest().postgresBinDir;
    o.superuserPassword = project.env().value(u"POSTGRES_PASSWORD"_qs);

    auto user = OsUser::clusterUser();
    if (!user)
        return user.error();
    QString blocked;
    if (!user->canTraverse(state, &blocked)) {
        // The postgres user cannot enter the project (e.g. it lives under /root, mode 700):
        // keep the cluster in a place it can reach, keyed by the project's path.
        const QString home = u"/var/tmp/pgext-clusters/"_qs + shortHash(project.root());
        qCInfo(lcCluster).noquote() << "project folder is closed to" << user->name << "(" << blocked
                                    << "); cluster lives in" << home;
        o.dataDir = home + u"/data"_qs;
        o.socketDir = home + u"/run"_qs;
        o.logFile = home + u"/logs/postgres.log"_qs;
    }
    if (o.socketDir.toLocal8Bit().size() > MaxSocketDirLength)
        o.socketDir = u"/tmp/pgext-"_qs + shortHash(project.root());
    return create(o);
}

Result<LocalCluster> LocalCluster::create(Options options)
{
    LocalCluster c;
    auto bins = PgBinaries::locate(options.binDir);
    if (!bins)
        return bins.error();
    auto user = OsUser::clusterUser();
    if (!user)
        return user.error();
    options.dataDir = QDir::cleanPath(QFileInfo(options.dataDir).absoluteFilePath());
    options.socketDir = QDir::cleanPath(QFileInfo(options.socketDir).absoluteFilePath());
    options.logFile = QDir::cleanPath(QFileInfo(options.logFile).absoluteFilePath());
    if (options.socketDir.toLocal8Bit().size() > MaxSocketDirLength)
        return Error::validation(u"socket folder path is too long (%1 bytes, at most %2): %3"_qs
                                     .arg(options.socketDir.toLocal8Bit().size()).arg(MaxSocketDirLength).arg(options.socketDir),
                                 u"Use a shorter path; unix socket paths are limited to about 100 bytes."_qs);
    c.m_options = options;
    c.m_binaries = *bins;
    c.m_user = *user;
    return c;
}

QString LocalCluster::stateName(State state)
{
    switch (state) {
    case State::NotInitialized: return u"not initialized"_qs;
    case State::Stopped: return u"stopped"_qs;
    case State::Running: return u"running"_qs;
    }
    return {};
}

static qint64 pidFromFile(const QString &dataDir)
{
    QFile f(QDir(dataDir).filePath(u"postmaster.pid"_qs));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    return QString::fromLatin1(f.readLine()).trimmed().toLongLong();
}

// A postmaster for *this* data directory: alive, and a postgres process.
static bool isOurPostmaster(qint64 pid)
{
    if (pid <= 0 || ::kill(pid_t(pid), 0) != 0)
        return false;
    QFile comm(u"/proc/%1/comm"_qs.arg(pid));
    if (comm.open(QIODevice::ReadOnly))
        return comm.readAll().trimmed() == "postgres";
    return true;
}

qint64 LocalCluster::pid() const
{
    const qint64 pid = pidFromFile(m_options.dataDir);
    return isOurPostmaster(pid) ? pid : 0;
}

LocalCluster::State LocalCluster::state() const
{
    if (!QFileInfo::exists(QDir(m_options.dataDir).filePath(u"PG_VERSION"_qs)))
        return State::NotInitialized;
    return pid() > 0 ? State::Running : State::Stopped;
}

Result<QString> LocalCluster::run(const QString &program, const QStringList &args, int timeoutMs) const
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"LC_ALL"_qs, u"C.UTF-8"_qs);
    env.remove(u"PGDATA"_qs);
    p.setProcessEnvironment(env);
    m_user.applyTo(p);
    // Start inside a folder the server user can read (it may not be able to enter ours).
    p.setWorkingDirectory(u"/"_qs);
    p.start(m_binaries.program(program), args);
    if (!p.waitForStarted(10000))
        return Error::make(Error::Kind::Process, u"cannot start %1: %2"_qs.arg(program, p.errorString()));
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(2000);
        return Error::make(Error::Kind::Process, u"%1 did not finish within %2 s"_qs.arg(program).arg(timeoutMs / 1000));
    }
    const QString out = QString::fromLocal8Bit(p.readAll());
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        Error e = Error::make(Error::Kind::Process, u"%1 failed (exit code %2)"_qs.arg(program).arg(p.exitCode()));
        e.detail = out.trimmed();
        if (p.exitCode() == 126 && !m_user.isCurrent())
            e.hint = u"Could not switch to the OS user \"%1\"."_qs.arg(m_user.name);
        return e;
    }
    return out;
}

Result<bool> LocalCluster::hasOutputPluginLibraries(const PgBinaries &binaries, QString *bootValue)
{
    auto user = OsUser::clusterUser();
    if (!user)
        return user.error();
    QProcess p;
    user->applyTo(p);
    p.setWorkingDirectory(u"/"_qs);
    p.start(binaries.program(u"postgres"_qs), {u"--describe-config"_qs});
    if (!p.waitForFinished(10000) || p.exitCode() != 0)
        return Error::make(Error::Kind::Process, u"postgres --describe-config failed"_qs,
                           QString::fromLocal8Bit(p.readAllStandardError()).trimmed());
    const QStringList lines = QString::fromLocal8Bit(p.readAllStandardOutput()).split(u'\n');
    for (const QString &line : lines) {
        const QStringList f = line.split(u'\t');
        if (f.size() > 4 && f[0] == u"output_plugin_libraries"_qs) {
            if (bootValue)
                *bootValue = f[4];
            return true;
        }
    }
    return false;
}

static Status makeDir(const QString &path, const OsUser &owner, QFile::Permissions perms)
{
    if (!QDir().mkpath(path)) {
        return Error::io(u"cannot create folder %1"_qs.arg(path),
                         u"Check that you may write to %1."_qs.arg(QFileInfo(path).absolutePath()));
    }
    if (Status s = owner.takeOwnership(path, false); !s)
        return s;
    QFile::setPermissions(path, perms);
    return {};
}

Status LocalCluster::initialize()
{
    if (state() != State::NotInitialized)
        return {};
    const QString parent = QFileInfo(m_options.dataDir).absolutePath();
    if (!QDir().mkpath(parent) || !QFileInfo(parent).isWritable())
        return Error::io(u"cannot write to %1"_qs.arg(parent),
                         u"The cluster lives there; make the folder writable or move the project."_qs);
    QDir data(m_options.dataDir);
    if (data.exists() && !data.isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden))
        return Error::validation(u"%1 exists, is not empty and is not a PostgreSQL data folder"_qs.arg(m_options.dataDir),
                                 u"Move it away or delete it, then try again."_qs);
    if (Status s = makeDir(m_options.dataDir, m_user, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner); !s)
        return s;
    QString blocked;
    if (!m_user.canTraverse(m_options.dataDir, &blocked))
        return Error::io(u"the OS user \"%1\" cannot enter %2"_qs.arg(m_user.name, blocked),
                         u"Run `chmod o+x %1` or put the project somewhere that user can reach."_qs.arg(blocked));
    qCInfo(lcCluster) << "initdb" << m_options.dataDir;
    QStringList args = {u"-D"_qs, m_options.dataDir, u"-U"_qs, m_options.superuser, u"-E"_qs, u"UTF8"_qs,
                        u"--locale=C.UTF-8"_qs, u"--auth-local=trust"_qs, u"--auth-host=scram-sha-256"_qs};
    if (!m_options.durable)
        args << u"--no-sync"_qs;
    // The password reaches initdb through a file only the server user can read, never argv.
    QString pwFile;
    if (!m_options.superuserPassword.isEmpty()) {
        pwFile = QDir(parent).filePath(u".initdb-pw-%1"_qs.arg(QCoreApplication::applicationPid()));
        QFile f(pwFile);
        if (!f.open(QIODevice::WriteOnly) || !f.setPermissions(QFile::ReadOwner | QFile::WriteOwner))
            return Error::io(u"cannot write %1"_qs.arg(pwFile));
        f.write(m_options.superuserPassword.toUtf8() + '\n');
        f.close();
        (void)m_user.takeOwnership(pwFile, false);
        args << u"--pwfile"_qs << pwFile;
    }
    auto out = run(u"initdb"_qs, args, 120000);
    if (!pwFile.isEmpty())
        QFile::remove(pwFile);
    if (!out) {
        // Leave no half-made data folder behind: the next attempt must start clean.
        QDir(m_options.dataDir).removeRecursively();
        return out.error();
    }
    return {};
}

Status LocalCluster::writeConfig()
{
    // Our settings live in pgext.conf, rewritten on every start so pgext.toml stays the
    // source; postgresql.conf only includes it (added once, checked every time).
    QFile conf(QDir(m_options.dataDir).filePath(u"postgresql.conf"_qs));
    if (!conf.open(QIODevice::ReadWrite))
        return Error::io(u"cannot open %1: %2"_qs.arg(conf.fileName(), conf.errorString()));
    if (!conf.readAll().contains("include_if_exists = 'pgext.conf'")) {
        conf.seek(conf.size());
        conf.write("\n# pgext: settings from pgext.toml, rewritten on every start\ninclude_if_exists = 'pgext.conf'\n");
    }
    conf.close();

    QString plugins = u"pgoutput, test_decoding"_qs;
    auto hasPlugins = hasOutputPluginLibraries(m_binaries, &plugins);
    if (!hasPlugins)
        return hasPlugins.error();
    QStringList lines;
    lines << u"# Written by pgext on every start. Change pgext.toml instead of this file."_qs
          << u"listen_addresses = '127.0.0.1'"_qs
          << u"port = %1"_qs.arg(m_options.port)
          << u"unix_socket_directories = '%1'"_qs.arg(m_options.socketDir)
          << u"unix_socket_permissions = 0777"_qs
          << u"wal_level = logical"_qs
          << u"max_replication_slots = 32"_qs
          << u"max_wal_senders = 32"_qs
          << u"max_connections = 200"_qs
          << u"log_line_prefix = '%m [%p] %q%u@%d '"_qs
          << u"log_timezone = 'UTC'"_qs;
    if (*hasPlugins) {
        // Extend the server's own list rather than replace it.
        QStringList names;
        for (const QString &n : plugins.split(u','))
            if (!n.trimmed().isEmpty())
                names << n.trimmed();
        if (!names.contains(u"pg_events"_qs))
            names << u"pg_events"_qs;
        lines << u"output_plugin_libraries = '%1'"_qs.arg(names.join(u", "_qs));
    }
    if (!m_options.durable)
        // Not synchronous_commit=off: logical decoding would then see commits only after
        // the WAL writer's delay (200 ms), which real-time tests must not depend on.
        lines << u"fsync = off"_qs << u"full_page_writes = off"_qs;
    lines << m_options.extraSettings;
    QSaveFile f(QDir(m_options.dataDir).filePath(u"pgext.conf"_qs));
    if (!f.open(QIODevice::WriteOnly))
        return Error::io(u"cannot write %1: %2"_qs.arg(f.fileName(), f.errorString()));
    f.write((lines.join(u'\n') + u'\n').toUtf8());
    if (!f.commit())
        return Error::io(u"cannot write %1: %2"_qs.arg(f.fileName(), f.errorString()));
    return m_user.takeOwnership(f.fileName(), false);
}

Status LocalCluster::checkPortFree() const
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, quint16(m_options.port))) {
        return Error::make(Error::Kind::Process,
                           u"port %1 on 127.0.0.1 is already in use by another program"_qs.arg(m_options.port),
                           u"Stop that program, or choose a free port: set [database] port in pgext.toml."_qs);
    }
    return {};
}

Status LocalCluster::clearStalePidFile() const
{
    const QString pidFile = QDir(m_options.dataDir).filePath(u"postmaster.pid"_qs);
    if (!QFileInfo::exists(pidFile))
        return {};
    const qint64 pid = pidFromFile(m_options.dataDir);
    if (isOurPostmaster(pid))
        return {};
    // A server that crashed or was killed left its pid file; postgres would refuse to
    // start if that pid now belongs to another process.
    qCWarning(lcCluster).noquote() << "removing stale" << pidFile << "(PID" << pid << "is not a running postgres)";
    if (!QFile::remove(pidFile))
        return Error::io(u"cannot remove stale %1"_qs.arg(pidFile));
    return {};
}

Status LocalCluster::start(int timeoutSeconds)
{
    if (Status s = initialize(); !s)
        return s;
    if (state() == State::Running)
        return {};
    if (Status s = clearStalePidFile(); !s)
        return s;
    if (Status s = checkPortFree(); !s)
        return s;
    if (Status s = makeDir(m_options.socketDir, m_user, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                                           | QFile::ReadOther | QFile::ExeOther | QFile::ReadGroup | QFile::ExeGroup); !s)
        return s;
    const QString logDir = QFileInfo(m_options.logFile).absolutePath();
    if (Status s = makeDir(logDir, m_user, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                              | QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther); !s)
        return s;
    if (QFileInfo::exists(m_options.logFile))
        (void)m_user.takeOwnership(m_options.logFile, false);
    if (Status s = writeConfig(); !s)
        return s;
    qCInfo(lcCluster) << "starting cluster" << m_options.dataDir << "on port" << m_options.port;
    auto out = run(u"pg_ctl"_qs,
                   {u"start"_qs, u"-w"_qs, u"-t"_qs, QString::number(timeoutSeconds), u"-s"_qs,
                    u"-D"_qs, m_options.dataDir, u"-l"_qs, m_options.logFile},
                   (timeoutSeconds + 10) * 1000);
    if (!out) {
        Error e = out.error();
        e.message = u"PostgreSQL did not start"_qs;
        QFile log(m_options.logFile);
        if (log.open(QIODevice::ReadOnly)) {
            const QStringList tail = QString::fromLocal8Bit(log.readAll()).trimmed().split(u'\n');
            e.detail = tail.mid(qMax(0, int(tail.size()) - 8)).join(u"\n  "_qs);
        }
        e.hint = u"See the server log: %1"_qs.arg(m_options.logFile);
        return e;
    }
    return {};
}

Status LocalCluster::stop(int timeoutSeconds)
{
    if (state() != State::Running) {
        (void)clearStalePidFile();
        return {};
    }
    auto out = run(u"pg_ctl"_qs,
                   {u"stop"_qs, u"-w"_qs, u"-t"_qs, QString::number(timeoutSeconds), u"-s"_qs, u"-m"_qs, u"fast"_qs,
                    u"-D"_qs, m_options.dataDir},
                   (timeoutSeconds + 10) * 1000);
    if (!out)
        return out.error();
    return {};
}

QString LocalCluster::conninfo(const QString &database) const
{
    auto quote = [](QString v) -> QString {
        v.replace(u'\\', u"\\\\"_qs).replace(u'\'', u"\\'"_qs);
        return u'\'' + v + u'\'';
    };
    return u"host=%1 port=%2 user=%3 dbname=%4"_qs.arg(quote(m_options.socketDir)).arg(m_options.port)
        .arg(quote(m_options.superuser), quote(database));
}

QString LocalCluster::url(const QString &database, bool withPassword) const
{
    if (m_options.superuserPassword.isEmpty()) {
        // Without a password only the unix socket (trust) lets the superuser in.
        return u"postgresql://%1@/%2?host=%3&port=%4"_qs.arg(m_options.superuser, database, m_options.socketDir)
            .arg(m_options.port);
    }
    const QString password = withPassword ? QString::fromUtf8(QUrl::toPercentEncoding(m_options.superuserPassword))
                                          : u"****"_qs;
    return u"postgresql://%1:%2@127.0.0.1:%3/%4"_qs.arg(m_options.superuser, password).arg(m_options.port).arg(database);
}

} // namespace Core
