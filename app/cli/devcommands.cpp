// pgext dev, logs, deploy, token: argument parsing and printing; the behaviour is in
// core/ (DevStack, ServiceSupervisor, Deployer, JwtSigner).
#include "cli.h"

#include "deployer.h"
#include "devstack.h"
#include "jwtsigner.h"
#include "project.h"
#include "rotatinglog.h"
#include "unixsignalwatcher.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonObject>
#include <QTimer>

#include <csignal>
#include <unistd.h>

using namespace Core;

namespace {

QString now()
{
    return QDateTime::currentDateTime().toString(u"HH:mm:ss"_qs);
}

} // namespace

static const QCommandLineOption DevDryRunOption(u"dry-run"_qs, u"Print the plan and change nothing."_qs);

void Cli::devOptions(QCommandLineParser &parser)
{
    parser.addOption({u"no-realtime"_qs, u"Do not start pg_events_ws."_qs});
    parser.addOption({u"no-postgrest"_qs, u"Do not start PostgREST."_qs});
    parser.addOption({u"no-frontend"_qs, u"Do not serve frontend/."_qs});
    parser.addOption({u"stop-db"_qs, u"Stop the project's PostgreSQL when pgext dev ends, also when it was running before (it is stopped anyway when pgext dev started it)."_qs});
    parser.addOption({u"verbose"_qs, u"Print every line the services log."_qs});
}

void Cli::logsOptions(QCommandLineParser &parser)
{
    parser.addOption({{u"f"_qs, u"follow"_qs}, u"Keep printing new lines (Ctrl-C to stop)."_qs});
    parser.addOption({{u"n"_qs, u"lines"_qs}, u"Lines to show from the end of each log (default 50)."_qs, u"lines"_qs, u"50"_qs});
    parser.addPositionalArgument(u"component"_qs, u"postgres, postgrest, realtime or all (default)."_qs);
}

void Cli::deployOptions(QCommandLineParser &parser)
{
    parser.addOption({u"env"_qs, u"Target environment: reads .env.<name> (default production)."_qs, u"name"_qs, u"production"_qs});
    parser.addOption(DevDryRunOption);
    parser.addOption({{u"y"_qs, u"yes"_qs}, u"Do not ask for confirmation."_qs});
}

void Cli::tokenOptions(QCommandLineParser &parser)
{
    parser.addOption({u"sub"_qs, u"Subject (user id) of the token."_qs, u"id"_qs});
    parser.addOption({u"role"_qs, u"Database role PostgREST switches to (default: the template's signed-in role)."_qs, u"role"_qs});
    parser.addOption({u"exp"_qs, u"Lifetime, e.g. 30m, 1h, 7d (default 1h)."_qs, u"duration"_qs, u"1h"_qs});
}

int Cli::cmdDev(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    DevStack::Options options;
    options.realtime = !parser.isSet(u"no-realtime"_qs);
    options.postgrest = !parser.isSet(u"no-postgrest"_qs);
    options.frontend = !parser.isSet(u"no-frontend"_qs);
    options.progress = [this](const QString &line) {
        m_out << "  " << line << '\n';
        m_out.flush();
    };
    const bool verbose = parser.isSet(u"verbose"_qs);
    const bool stopDb = parser.isSet(u"stop-db"_qs);

    DevStack stack(*project, options);
    bool running = false;
    QObject::connect(&stack, &DevStack::logLine, &stack, [&](const QString &service, const QString &line) {
        if (verbose || (!running && line.startsWith(u"[pgext "_qs) && line.contains(u"restarting"_qs))) {
            m_out << service.leftJustified(9) << " | " << line << '\n';
            m_out.flush();
        }
    });
    m_out << "pgext dev: " << project->manifest().name << " (" << project->root() << ")\n";
    m_out.flush();
    if (Status s = stack.start(); !s)
        return fail(s.error());
    running = true;

    const Manifest &m = project->manifest();
    const DevStack::Timings &t = stack.timings();
    m_out << '\n';
    if (stack.isServingFrontend())
        m_out << "  Frontend    " << stack.frontendUrl() << '\n';
    if (options.postgrest)
        m_out << "  PostgREST   " << stack.postgrestUrl() << '\n';
    if (options.realtime)
        m_out << "  Realtime    " << stack.realtimeUrl() << "  (health: http://127.0.0.1:" << m.realtimePort << "/health)\n";
    m_out << "  Database    " << stack.databaseUrl() << '\n'
          << "  Logs        " << QDir(project->stateDir()).filePath(u"logs"_qs) << "  (pgext logs -f)\n\n"
          << "all services healthy in " << t.totalMs << " ms (cluster " << (t.clusterWasRunning ? "already running" : "started")
          << " " << t.clusterMs << " ms, database " << t.databaseMs << " ms, migrations " << t.migrateMs
          << " ms, services " << t.servicesMs << " ms)\n"
          << "Watching " << m.schemaFile << ", " << m.migrationsDir << "/ and " << m.functionsDir
          << "/ — saved changes are applied. Ctrl-C stops.\n";
    m_out.flush();

    // Service events after start-up: crashes, restarts, recoveries.
    ServiceSupervisor *sup = stack.supervisor();
    QObject::connect(sup, &ServiceSupervisor::serviceFailed, &stack,
                     [this](const QString &service, const Error &error, int restartInMs) {
                         m_err << '[' << now() << "] " << service << ": " << error.message << "; restarting in "
                               << restartInMs << " ms (pgext logs " << service << ")\n";
                         m_err.flush();
                     });
    QObject::connect(sup, &ServiceSupervisor::serviceStateChanged, &stack,
                     [this](const QString &service, Service::State state) {
                         if (state == Service::State::Healthy || state == Service::State::Starting) {
                             m_out << '[' << now() << "] " << service << ": " << Service::stateName(state) << '\n';
                             m_out.flush();
                         }
                     });

    // Re-apply SQL on save, debounced; errors are printed and the services keep running.
    QFileSystemWatcher watcher;
    QTimer debounce;
    debounce.setSingleShot(true);
    debounce.setInterval(150);
    auto rewatch = [&] {
        const QStringList current = watcher.files() + watcher.directories();
        if (!current.isEmpty())
            watcher.removePaths(current);
        QStringList paths;
        for (const QString &p : stack.watchedPaths())
            if (QFileInfo::exists(p))
                paths << p;
        if (!paths.isEmpty())
            watcher.addPaths(paths);
    };
    rewatch();
    QObject::connect(&watcher, &QFileSystemWatcher::fileChanged, &debounce, qOverload<>(&QTimer::start));
    QObject::connect(&watcher, &QFileSystemWatcher::directoryChanged, &debounce, qOverload<>(&QTimer::start));
    QObject::connect(&debounce, &QTimer::timeout, &stack, [&] {
        rewatch(); // editors replace files by renaming: watch the new ones
        auto report = stack.reapply();
        if (!report) {
            m_err << '[' << now() << "] ";
            fail(report.error());
            m_err << "  (not applied; the services keep running with the previous version)\n";
            m_err.flush();
            return;
        }
        if (!report->applied.empty()) {
            m_out << '[' << now() << "] applied " << report->applied.size() << " file(s) in " << report->elapsedMs << " ms\n";
            m_out.flush();
        }
    });

    int exitCode = 0;
    // Ctrl-C, SIGTERM and a closed terminal stop the children in order (they run in their
    // own process group, so the terminal's Ctrl-C reaches only pgext).
    UnixSignalWatcher signalWatcher({SIGINT, SIGTERM, SIGHUP});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &stack, [&](int signal) {
        m_out << '\n' << '[' << now() << "] " << (signal == SIGINT ? "Ctrl-C" : signal == SIGHUP ? "SIGHUP" : "SIGTERM")
              << ": stopping the services ...\n";
        m_out.flush();
        stack.stop();
        // What pgext dev started it stops, and nothing else: a cluster that was running
        // before keeps running unless --stop-db says otherwise.
        if (stopDb || stack.startedCluster()) {
            if (Status s = stack.stopDatabase(); !s) {
                fail(s.error());
                exitCode = 1;
            } else {
                m_out << (stopDb ? "Stopped PostgreSQL.\n" : "Stopped PostgreSQL too (pgext dev started it).\n");
            }
        } else {
            m_out << "Stopped. PostgreSQL keeps running: it was running before pgext dev; stop it with `pgext db:stop`.\n";
        }
        m_out.flush();
        QCoreApplication::exit(exitCode);
    });
    QCoreApplication::exec();
    return exitCode;
}

static QStringList tailLines(const QString &path, int lines)
{
    QStringList out;
    for (const QString &file : RotatingLog::files(path)) {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const qint64 window = 1024 * 1024;
        if (f.size() > window)
            f.seek(f.size() - window);
        QStringList chunk = QString::fromUtf8(f.readAll()).split(u'\n');
        if (!chunk.isEmpty() && chunk.last().isEmpty())
            chunk.removeLast();
        out += chunk;
    }
    return out.mid(qMax(0, int(out.size()) - lines));
}

int Cli::cmdLogs(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    const QStringList pos = parser.positionalArguments();
    const QStringList all = {u"postgres"_qs, u"postgrest"_qs, u"realtime"_qs};
    const QString which = pos.isEmpty() ? u"all"_qs : pos.first();
    if (pos.size() > 1 || (which != u"all"_qs && !all.contains(which))) {
        m_err << "Usage: pgext logs [postgres|postgrest|realtime|all] [-f] [-n <lines>]\n";
        return 2;
    }
    bool ok = false;
    const int lines = parser.value(u"lines"_qs).toInt(&ok);
    if (!ok || lines < 0) {
        m_err << "pgext logs: --lines needs a number\n";
        return 2;
    }
    const QStringList components = which == u"all"_qs ? all : QStringList{which};
    const bool prefix = components.size() > 1;
    struct Followed { QString name; QString path; qint64 offset = 0; QByteArray partial; };
    std::vector<Followed> followed;
    bool any = false;
    for (const QString &c : components) {
        const QString path = DevStack::logFile(*project, c);
        const QStringList tail = tailLines(path, lines);
        any = any || QFileInfo::exists(path);
        if (prefix && !tail.isEmpty())
            m_out << "==> " << c << " (" << path << ") <==\n";
        for (const QString &l : tail)
            m_out << (prefix ? c.leftJustified(9) + u" | "_qs : QString()) << l << '\n';
        followed.push_back({c, path, QFileInfo(path).size(), {}});
    }
    m_out.flush();
    if (!any && !parser.isSet(u"follow"_qs)) {
        m_err << "pgext logs: no logs yet in " << QDir(project->stateDir()).filePath(u"logs"_qs)
              << "\n  HINT: They appear once `pgext dev` (or `pgext db:start`) has run.\n";
        return 0;
    }
    if (!parser.isSet(u"follow"_qs))
        return 0;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &poll, [&] {
        for (Followed &f : followed) {
            QFile file(f.path);
            if (!file.open(QIODevice::ReadOnly))
                continue;
            if (file.size() < f.offset) // rotated or truncated: start over
                f.offset = 0;
            if (file.size() == f.offset)
                continue;
            file.seek(f.offset);
            f.partial += file.readAll();
            f.offset = file.pos();
            qsizetype nl;
            while ((nl = f.partial.indexOf('\n')) >= 0) {
                m_out << (prefix ? f.name.leftJustified(9) + u" | "_qs : QString()) << QString::fromUtf8(f.partial.left(nl)) << '\n';
                f.partial.remove(0, nl + 1);
            }
        }
        m_out.flush();
    });
    poll.start(200);
    UnixSignalWatcher signalWatcher({SIGINT, SIGTERM, SIGHUP});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &poll, [] { QCoreApplication::exit(0); });
    return QCoreApplication::exec();
}

int Cli::cmdDeploy(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto target = Deployer::resolve(*project, parser.value(u"env"_qs));
    if (!target)
        return fail(target.error());
    Deployer deployer(*project, *target);
    auto plan = deployer.plan();
    if (!plan)
        return fail(plan.error());
    m_out << "Deploy " << project->manifest().name << " to " << target->display << " (from " << target->envFile
          << ", PostgreSQL " << plan->serverVersion << ")\n";
    for (const QString &e : plan->extensions)
        m_out << "  create extension  " << e << '\n';
    m_out << "  store secret      pgext.settings jwt_secret (JWT_SECRET from " << target->envFile << ", for login)\n";
    for (const MigrationFile &f : plan->migrations.toApply)
        m_out << "  apply             " << f.path.leftJustified(50) << ' ' << MigrationFile::kindName(f.kind) << '\n';
    for (const QString &t : plan->tracking)
        m_out << "  track             " << t << " (pg_events)\n";
    if (!plan->frontendSource.isEmpty())
        m_out << "  write frontend    " << project->relative(plan->frontendSource) << "/ (" << plan->frontendFiles
              << " files, config.js generated) → " << plan->frontendTarget << '\n';
    else if (project->manifest().frontendDeployDir.isEmpty())
        m_out << "  (no [frontend] deploy_dir in pgext.toml: the frontend is not written)\n";
    if (plan->migrations.toApply.empty())
        m_out << "  the database schema is up to date\n";
    m_out.flush();
    if (parser.isSet(u"dry-run"_qs)) {
        m_out << "Nothing was changed (--dry-run).\n";
        return 0;
    }
    if (!parser.isSet(u"yes"_qs)) {
        if (!isatty(STDIN_FILENO)) {
            m_err << "pgext: error: deploy needs confirmation\n  HINT: No terminal to ask on; pass --yes to apply the plan.\n";
            return 1;
        }
        m_out << "Apply this plan? [y/N] ";
        m_out.flush();
        QTextStream in(stdin);
        const QString answer = in.readLine().trimmed().toLower();
        if (answer != u"y"_qs && answer != u"yes"_qs) {
            m_err << "pgext: cancelled; nothing was changed.\n";
            return 1;
        }
    }
    if (Status s = deployer.apply(*plan, [this](const QString &line) {
            m_out << "  " << line << '\n';
            m_out.flush();
        });
        !s)
        return fail(s.error());
    m_out << "Deployed.\n";
    return 0;
}

int Cli::cmdToken(QCommandLineParser &parser)
{
    if (!parser.isSet(u"sub"_qs) || parser.value(u"sub"_qs).isEmpty()) {
        m_err << "Usage: pgext token --sub <id> [--role <role>] [--exp <duration>]\n";
        return 2;
    }
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto secret = DevStack::jwtSecret(*project);
    if (!secret)
        return fail(secret.error());
    auto exp = JwtSigner::parseDuration(parser.value(u"exp"_qs));
    if (!exp)
        return fail(exp.error());
    const qint64 nowSeconds = QDateTime::currentSecsSinceEpoch();
    QJsonObject claims;
    claims.insert(u"sub"_qs, parser.value(u"sub"_qs));
    claims.insert(u"role"_qs, parser.isSet(u"role"_qs) ? parser.value(u"role"_qs) : DevStack::defaultTokenRole(*project));
    claims.insert(u"iat"_qs, nowSeconds);
    claims.insert(u"exp"_qs, nowSeconds + *exp);
    auto token = JwtSigner::signHs256(claims, *secret);
    if (!token)
        return fail(token.error());
    m_out << *token << '\n';
    return 0;
}
