#include "server.h"
#include "unixsignalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <csignal>
#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"pg_events_ws"_qs);
    QCoreApplication::setApplicationVersion(QStringLiteral(PGEXT_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Streams pg_events changes and events to WebSocket clients (docs/PROTOCOL.md)."_qs);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({u"config"_qs, u"TOML configuration file."_qs, u"file"_qs});
    parser.addOption({u"env-file"_qs, u"A project's .env (JWT_SECRET, DATABASE_URL)."_qs, u"file"_qs});
    parser.process(app);

    auto config = Realtime::ServerConfig::load(parser.value(u"config"_qs), parser.value(u"env-file"_qs));
    auto server = config ? Realtime::Server::create(*config) : Core::Result<std::unique_ptr<Realtime::Server>>(config.error());
    if (!server || !(*server)->listen()) {
        const Core::Error e = server ? (*server)->listen().error() : server.error();
        std::fprintf(stderr, "pg_events_ws: error: %s\n", qPrintable(e.toString()));
        return 1;
    }
    Core::UnixSignalWatcher stopSignals({SIGINT, SIGTERM});
    QObject::connect(&stopSignals, &Core::UnixSignalWatcher::received, &app, [&server] { (*server)->shutdown(); });
    QObject::connect(server->get(), &Realtime::Server::shutdownComplete, &app, &QCoreApplication::quit);
    return app.exec();
}
