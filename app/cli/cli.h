#pragma once

#include <QCommandLineParser>
#include <QStringList>
#include <QTextStream>

#include <optional>

namespace Core {
class Project;
struct ConnectionSettings;
struct Error;
}

// `pgext`: argument parsing and printing only. Every behaviour lives in core/.
class Cli
{
public:
    Cli();
    int run(const QStringList &arguments);

private:
    struct Command
    {
        QString name;
        QString synopsis;
        QString summary;
        int (Cli::*handler)(QCommandLineParser &);
        void (Cli::*addOptions)(QCommandLineParser &);
    };

    int usage(int exitCode);
    int fail(const Core::Error &error, int exitCode = 1);
    std::optional<Core::Project> loadProject(QCommandLineParser &parser);
    std::optional<Core::ConnectionSettings> connectionFor(const Core::Project *project, QCommandLineParser &parser);
    bool confirm(const QString &question, const QString &expected, QCommandLineParser &parser);
    bool confirmDestructive(const QString &action, const Core::ConnectionSettings &settings, QCommandLineParser &parser);

    void noOptions(QCommandLineParser &) {}
    void initOptions(QCommandLineParser &parser);
    void yesOptions(QCommandLineParser &parser);
    void migrateOptions(QCommandLineParser &parser);
    void dryRunOptions(QCommandLineParser &parser);
    void devOptions(QCommandLineParser &parser);
    void logsOptions(QCommandLineParser &parser);
    void deployOptions(QCommandLineParser &parser);
    void tokenOptions(QCommandLineParser &parser);

    int cmdInit(QCommandLineParser &parser);
    int cmdDbCreate(QCommandLineParser &parser);
    int cmdDbDrop(QCommandLineParser &parser);
    int cmdDbReset(QCommandLineParser &parser);
    int cmdDbStart(QCommandLineParser &parser);
    int cmdDbStop(QCommandLineParser &parser);
    int cmdMigrate(QCommandLineParser &parser);
    int cmdDeployFunctions(QCommandLineParser &parser);
    int cmdStatus(QCommandLineParser &parser);
    int cmdNew(QCommandLineParser &parser);
    int cmdDev(QCommandLineParser &parser);
    int cmdLogs(QCommandLineParser &parser);
    int cmdDeploy(QCommandLineParser &parser);
    int cmdToken(QCommandLineParser &parser);
    int migrateWith(QCommandLineParser &parser, bool repeatableOnly);

    QList<Command> m_commands;
    QTextStream m_out;
    QTextStream m_err;
};
