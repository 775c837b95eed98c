#include "cli.h"

#include "connectionsettings.h"
#include "databaseadmin.h"
#include "localcluster.h"
#include "migrator.h"
#include "pgconnection.h"
#include "project.h"
#include "scaffold.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>

#include <cstdio>
#include <unistd.h>

using namespace Core;

static const QCommandLineOption ProjectOption({u"p"_qs, u"project"_qs},
                                              u"Project folder (default: the nearest folder with a pgext.toml)."_qs,
                                              u"dir"_qs);
static const QCommandLineOption DatabaseUrlOption(u"database-url"_qs,
                                                  u"Database to use instead of the project's (overrides DATABASE_URL)."_qs,
                                                  u"url"_qs);
static const QCommandLineOption YesOption({u"y"_qs, u"yes"_qs}, u"Do not ask for confirmation."_qs);
static const QCommandLineOption DryRunOption(u"dry-run"_qs, u"Print the plan and change nothing."_qs);

Cli::Cli() : m_out(stdout), m_err(stderr)
{
    m_commands = {
        {u"init"_qs, u"init <name> [--template todo] [--dir <dir>]"_qs,
         u"Create a new project from a template."_qs, &Cli::cmdInit, &Cli::initOptions},
        {u"db:create"_qs, u"db:create"_qs,
         u"Start the local cluster if needed and create the project's database."_qs, &Cli::cmdDbCreate, &Cli::noOptions},
        {u"db:drop"_qs, u"db:drop [--yes]"_qs,
         u"Drop the project's database (asks first unless it is the local one)."_qs, &Cli::cmdDbDrop, &Cli::yesOptions},
        {u"db:reset"_qs, u"db:reset [--yes]"_qs,
         u"Drop, create and migrate the database."_qs, &Cli::cmdDbReset, &Cli::yesOptions},
        {u"db:start"_qs, u"db:start"_qs,
         u"Start the project's local PostgreSQL cluster (creating it on first use)."_qs, &Cli::cmdDbStart, &Cli::noOptions},
        {u"db:stop"_qs, u"db:stop"_qs,
         u"Stop the project's local PostgreSQL cluster."_qs, &Cli::cmdDbStop, &Cli::noOptions},
        {u"migrate"_qs, u"migrate [--dry-run] [--allow-out-of-order]"_qs,
         u"Apply schema.sql, pending migrations and changed functions."_qs, &Cli::cmdMigrate, &Cli::migrateOptions},
        {u"deploy-functions"_qs, u"deploy-functions [--dry-run]"_qs,
         u"Apply only the changed files under functions/."_qs, &Cli::cmdDeployFunctions, &Cli::dryRunOptions},
        {u"status"_qs, u"status"_qs,
         u"Show the local cluster, the connection and every migration's state."_qs, &Cli::cmdStatus, &Cli::noOptions},
        {u"new"_qs, u"new migration <name> | function <name> | table <schema.name>"_qs,
         u"Create a migration, a function file, or a table (layered projects)."_qs, &Cli::cmdNew, &Cli::noOptions},
        {u"dev"_qs, u"dev [--no-realtime] [--no-frontend] [--stop-db] [--verbose]"_qs,
         u"Run the whole local stack: PostgreSQL, PostgREST, pg_events_ws, frontend/; re-apply SQL on save."_qs,
         &Cli::cmdDev, &Cli::devOptions},
        {u"logs"_qs, u"logs [postgres|postgrest|realtime|all] [-f] [-n <lines>]"_qs,
         u"Show the local services' logs (.pgext/logs)."_qs, &Cli::cmdLogs, &Cli::logsOptions},
        {u"deploy"_qs, u"deploy [--env <name>] [--dry-run] [--yes]"_qs,
         u"Apply extensions, SQL and tracking to DATABASE_URL from .env.<name>; write the frontend."_qs,
         &Cli::cmdDeploy, &Cli::deployOptions},
        {u"token"_qs, u"token --sub <id> [--role <role>] [--exp <duration>]"_qs,
         u"Print a development JWT signed with the project's JWT_SECRET."_qs, &Cli::cmdToken, &Cli::tokenOptions},
    };
}

int Cli::usage(int exitCode)
{
    QTextStream &s = exitCode == 0 ? m_out : m_err;
    s << "pgext " << QCoreApplication::applicationVersion() << " - PostgreSQL-Ext command line\n\n"
      << "Usage: pgext [--project <dir>] [--database-url <url>] <command> [options]\n\nCommands:\n";
    for (const Command &c : m_commands)
        s << "  " << c.synopsis.leftJustified(46) << ' ' << c.summary << '\n';
    s << "\nRun `pgext <command> --help` for a command's options. Docs: docs/CLI.md\n";
    s.flush();
    return exitCode;
}

int Cli::fail(const Error &error, int exitCode)
{
    // Errors pinned to a file print as "path:line:col: message" so editors can jump there.
    if (error.file.isEmpty())
        m_err << "pgext: error: ";
    m_err << error.toString() << '\n';
    m_err.flush();
    return exitCode;
}

int Cli::run(const QStringList &arguments)
{
    // The command is the first argument that names one; everything else is options.
    qsizetype commandIndex = -1;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &a = arguments[i];
        if (a == u"-p"_qs || a == u"--project"_qs || a == u"--database-url"_qs) {
            ++i;
            continue;
        }
        if (a.startsWith(u'-'))
            continue;
        commandIndex = i;
        break;
    }
    if (commandIndex < 0) {
        if (arguments.contains(u"--version"_qs) || arguments.contains(u"-v"_qs)) {
            m_out << "pgext " << QCoreApplication::applicationVersion() << '\n';
            return 0;
        }
        if (arguments.contains(u"--help"_qs) || arguments.contains(u"-h"_qs))
            return usage(0);
        return usage(2);
    }
    const QString name = arguments[commandIndex];
    const Command *command = nullptr;
    for (const Command &c : m_commands)
        if (c.name == name)
            command = &c;
    if (!command) {
        m_err << "pgext: unknown command \"" << name << "\"\n\n";
        return usage(2);
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(command->summary);
    parser.addHelpOption();
    parser.addOption(ProjectOption);
    parser.addOption(DatabaseUrlOption);
    (this->*command->addOptions)(parser);
    QStringList args = arguments;
    args.removeAt(commandIndex);
    if (!parser.parse(args)) {
        m_err << "pgext " << name << ": " << parser.errorText() << "\nUsage: pgext " << command->synopsis << '\n';
        return 2;
    }
    if (parser.isSet(u"help"_qs)) {
        m_out << "Usage: pgext " << command->synopsis << "\n\n" << command->summary << "\n\n"
              << parser.helpText().section(u'\n', 2);
        return 0;
    }
    const int rc = (this->*command->handler)(parser);
    m_out.flush();
    m_err.flush();
    return rc;
}

std::optional<Project> Cli::loadProject(QCommandLineParser &parser)
{
    auto project = parser.isSet(ProjectOption) ? Project::open(parser.value(ProjectOption))
                                               : Project::find(QDir::currentPath());
    if (!project) {
        fail(project.error());
        return std::nullopt;
    }
    return std::move(project).value();
}

std::optional<ConnectionSettings> Cli::connectionFor(const Project *project, QCommandLineParser &parser)
{
    auto settings = ConnectionSettings::resolve(project, parser.value(DatabaseUrlOption));
    if (!settings) {
        fail(settings.error());
        return std::nullopt;
    }
    return *settings;
}

bool Cli::confirm(const QString &question, const QString &expected, QCommandLineParser &parser)
{
    if (parser.isSet(YesOption))
        return true;
    if (!isatty(STDIN_FILENO)) {
        m_err << "pgext: error: " << question << "\n  HINT: No terminal to ask on; pass --yes to confirm.\n";
        return false;
    }
    m_out << question << "\nType \"" << expected << "\" to confirm: ";
    m_out.flush();
    QTextStream in(stdin);
    const QString answer = in.readLine().trimmed();
    if (answer != expected) {
        m_err << "pgext: cancelled; nothing was changed.\n";
        return false;
    }
    return true;
}

bool Cli::confirmDestructive(const QString &action, const ConnectionSettings &settings, QCommandLineParser &parser)
{
    // The project's own local database is scratch space; anything else asks first.
    if (settings.isLocalCluster())
        return true;
    return confirm(u"This %1 database \"%2\" at %3 (from %4), which is not the project's local database."_qs
                       .arg(action, settings.databaseName, settings.display, ConnectionSettings::sourceName(settings.source)),
                   settings.databaseName, parser);
}

void Cli::initOptions(QCommandLineParser &parser)
{
    parser.addOption({{u"t"_qs, u"template"_qs},
                      u"Template: %1 (default: todo)."_qs.arg(Scaffold::templates().join(u", "_qs)),
                      u"name"_qs, u"todo"_qs});
    parser.addOption({u"dir"_qs, u"Folder to create (default: ./<name>)."_qs, u"dir"_qs});
    parser.addPositionalArgument(u"name"_qs, u"Project name."_qs);
}

void Cli::yesOptions(QCommandLineParser &parser)
{
    parser.addOption(YesOption);
}

void Cli::migrateOptions(QCommandLineParser &parser)
{
    parser.addOption(DryRunOption);
    parser.addOption({u"allow-out-of-order"_qs,
                      u"Apply pending migrations older than the newest applied one."_qs});
}

void Cli::dryRunOptions(QCommandLineParser &parser)
{
    parser.addOption(DryRunOption);
}

int Cli::cmdInit(QCommandLineParser &parser)
{
    const QStringList pos = parser.positionalArguments();
    if (pos.size() != 1) {
        m_err << "Usage: pgext init <name> [--template todo] [--dir <dir>]\n";
        return 2;
    }
    const QString name = pos.first();
    const QString dir = parser.isSet(u"dir"_qs) ? parser.value(u"dir"_qs) : QDir::current().filePath(name);
    if (Status s = Scaffold::initProject(dir, name, parser.value(u"template"_qs)); !s)
        return fail(s.error());
    const QString shown = QDir::current().relativeFilePath(dir);
    m_out << "Created project " << name << " in " << QDir(dir).absolutePath() << " (template "
          << parser.value(u"template"_qs) << ").\n\nNext:\n  cd " << shown
          << "\n  pgext db:create && pgext migrate     # local database + schema\n"
          << "  pgext status\n";
    return 0;
}

int Cli::cmdDbStart(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto cluster = LocalCluster::forProject(*project);
    if (!cluster)
        return fail(cluster.error());
    const bool fresh = cluster->state() == LocalCluster::State::NotInitialized;
    if (fresh)
        m_out << "Creating the local cluster in " << cluster->options().dataDir << " ...\n";
    m_out.flush();
    if (Status s = cluster->start(); !s)
        return fail(s.error());
    m_out << "PostgreSQL is running on 127.0.0.1:" << cluster->options().port << " (pid " << cluster->pid() << ").\n";
    return 0;
}

int Cli::cmdDbStop(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto cluster = LocalCluster::forProject(*project);
    if (!cluster)
        return fail(cluster.error());
    if (cluster->state() != LocalCluster::State::Running) {
        m_out << "The local cluster is not running.\n";
        return 0;
    }
    if (Status s = cluster->stop(); !s)
        return fail(s.error());
    m_out << "Stopped the local cluster.\n";
    return 0;
}

int Cli::cmdDbCreate(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto settings = connectionFor(&*project, parser);
    if (!settings)
        return 1;
    DatabaseAdmin admin(&*project, *settings);
    auto created = admin.createDatabase();
    if (!created)
        return fail(created.error());
    m_out << (*created ? "Created database " : "Database already exists: ") << settings->databaseName << '\n'
          << "Connect: psql \"" << settings->display << "\"\n";
    return 0;
}

int Cli::cmdDbDrop(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto settings = connectionFor(&*project, parser);
    if (!settings)
        return 1;
    if (!confirmDestructive(u"drops"_qs, *settings, parser))
        return 1;
    DatabaseAdmin admin(&*project, *settings);
    auto dropped = admin.dropDatabase();
    if (!dropped)
        return fail(dropped.error());
    m_out << (*dropped ? "Dropped database " : "Database does not exist: ") << settings->databaseName << '\n';
    return 0;
}

int Cli::cmdDbReset(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto settings = connectionFor(&*project, parser);
    if (!settings)
        return 1;
    if (!confirmDestructive(u"drops and recreates"_qs, *settings, parser))
        return 1;
    // Validate the files before destroying anything: a broken manifest or file name
    // must not leave the user with an empty database.
    if (auto files = project->migrationFiles(); !files)
        return fail(files.error());
    DatabaseAdmin admin(&*project, *settings);
    auto dropped = admin.dropDatabase();
    if (!dropped)
        return fail(dropped.error());
    auto created = admin.createDatabase();
    if (!created)
        return fail(created.error());
    m_out << "Recreated database " << settings->databaseName << ".\n";
    m_out.flush();
    return migrateWith(parser, false);
}

static QString kindLabel(MigrationFile::Kind kind)
{
    return MigrationFile::kindName(kind);
}

int Cli::migrateWith(QCommandLineParser &parser, bool repeatableOnly)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto settings = connectionFor(&*project, parser);
    if (!settings)
        return 1;
    const bool dryRun = parser.optionNames().contains(u"dry-run"_qs) && parser.isSet(DryRunOption);
    if (settings->isLocalCluster() && !dryRun) {
        // migrate on a fresh project "just works": start the cluster and create the database.
        DatabaseAdmin admin(&*project, *settings);
        auto created = admin.createDatabase();
        if (!created)
            return fail(created.error());
    }
    auto conn = PgConnection::open(settings->conninfo);
    if (!conn)
        return fail(conn.error());
    Migrator migrator(*conn, *project);
    Migrator::Options options;
    options.dryRun = dryRun;
    options.repeatableOnly = repeatableOnly;
    options.allowOutOfOrder = parser.optionNames().contains(u"allow-out-of-order"_qs)
                              && parser.isSet(u"allow-out-of-order"_qs);
    if (dryRun) {
        auto plan = migrator.plan(options);
        if (!plan)
            return fail(plan.error());
        if (plan->problem)
            return fail(*plan->problem);
        m_out << "Plan for " << settings->databaseName << " (" << settings->display << "):\n";
        if (plan->toApply.empty())
            m_out << "  nothing to apply: the database is up to date\n";
        for (const MigrationFile &f : plan->toApply)
            m_out << "  apply  " << f.path.leftJustified(56) << ' ' << kindLabel(f.kind)
                  << (f.noTransaction ? " (no transaction)" : "") << '\n';
        m_out << plan->toApply.size() << " file(s) would be applied. Nothing was changed (--dry-run).\n";
        return 0;
    }
    options.progress = [this](const QString &line) {
        m_out << line << '\n';
        m_out.flush();
    };
    auto report = migrator.migrate(options);
    if (!report)
        return fail(report.error());
    if (report->applied.empty())
        m_out << "Nothing to apply: " << settings->databaseName << " is up to date.\n";
    else
        m_out << "Applied " << report->applied.size() << " file(s) to " << settings->databaseName << " in "
              << report->elapsedMs << " ms.\n";
    return 0;
}

int Cli::cmdMigrate(QCommandLineParser &parser)
{
    return migrateWith(parser, false);
}

int Cli::cmdDeployFunctions(QCommandLineParser &parser)
{
    return migrateWith(parser, true);
}

int Cli::cmdStatus(QCommandLineParser &parser)
{
    auto project = loadProject(parser);
    if (!project)
        return 1;
    const Manifest &m = project->manifest();
    m_out << "Project     " << m.name << "  (" << project->root() << ")\n";
    auto settings = connectionFor(&*project, parser);
    if (!settings)
        return 1;
    if (settings->isLocalCluster()) {
        auto cluster = LocalCluster::forProject(*project);
        if (!cluster)
            return fail(cluster.error());
        const LocalCluster::State state = cluster->state();
        m_out << "Cluster     " << LocalCluster::stateName(state);
        if (state == LocalCluster::State::Running)
            m_out << ", pid " << cluster->pid() << ", 127.0.0.1:" << cluster->options().port;
        m_out << "  (" << cluster->options().dataDir << ")\n";
        if (state != LocalCluster::State::Running) {
            m_out << "Database    " << settings->databaseName << ": cluster not running — start it with "
                  << "`pgext db:start` or `pgext db:create`\n";
            return 0;
        }
    }
    m_out << "Database    " << settings->databaseName << " via " << ConnectionSettings::sourceName(settings->source) << '\n'
          << "Connect     psql \"" << settings->display << "\"\n";
    if (settings->display.contains(u"****"_qs) && settings->isLocalCluster())
        m_out << "            (password: POSTGRES_PASSWORD in .env)\n";
    auto conn = PgConnection::open(settings->conninfo);
    if (!conn) {
        if (settings->isLocalCluster() && conn.error().message.contains(u"does not exist"_qs)) {
            m_out << "            database does not exist yet — create it with `pgext db:create`\n";
            return 0;
        }
        return fail(conn.error());
    }
    m_out << "Server      PostgreSQL " << conn->serverVersion() / 10000 << '.' << conn->serverVersion() % 10000
          << ", user " << conn->user() << '\n';
    Migrator migrator(*conn, *project);
    auto plan = migrator.plan({});
    if (!plan)
        return fail(plan.error());
    m_out << "Migrations\n";
    QMap<QString, int> counts;
    for (const MigrationState &s : plan->states) {
        counts[MigrationState::stateName(s.state)]++;
        m_out << "  " << MigrationState::stateName(s.state).leftJustified(13) << s.path.leftJustified(56) << ' ';
        if (s.appliedAt.isValid())
            m_out << s.appliedAt.toUTC().toString(u"yyyy-MM-dd HH:mm:ss"_qs) << "Z  " << s.executionMs << " ms";
        m_out << '\n';
    }
    if (plan->states.empty())
        m_out << "  (no files: add schema.sql, migrations/ or functions/)\n";
    QStringList summary;
    for (auto it = counts.constBegin(); it != counts.constEnd(); ++it)
        summary << u"%1 %2"_qs.arg(it.value()).arg(it.key());
    if (!summary.isEmpty())
        m_out << "  " << summary.join(u", "_qs) << '\n';
    if (plan->problem) {
        m_out.flush();
        return fail(*plan->problem);
    }
    return 0;
}

int Cli::cmdNew(QCommandLineParser &parser)
{
    const QStringList pos = parser.positionalArguments();
    if (pos.size() != 2 || (pos[0] != u"migration"_qs && pos[0] != u"function"_qs && pos[0] != u"table"_qs)) {
        m_err << "Usage: pgext new migration <name> | pgext new function <name> | pgext new table <schema.name>\n";
        return 2;
    }
    auto project = loadProject(parser);
    if (!project)
        return 1;
    auto file = pos[0] == u"migration"_qs ? Scaffold::newMigration(*project, pos[1])
                : pos[0] == u"function"_qs ? Scaffold::newFunction(*project, pos[1])
                                            : Scaffold::newTable(*project, pos[1]);
    if (!file)
        return fail(file.error());
    m_out << "Created " << project->relative(*file) << '\n';
    return 0;
}
