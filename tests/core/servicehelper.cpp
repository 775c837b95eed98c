// A stand-in for PostgREST/pg_events_ws in the supervisor tests:
//   servicehelper <port> [--status N] [--crash-after MS] [--ignore-term] [--no-listen] [--print TEXT]
// Serves HTTP on 127.0.0.1:<port>, answering every request with status N (default 200).
#include <QCoreApplication>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <csignal>
#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const quint16 port = quint16(args.value(1).toUInt());
    int status = 200;
    bool listen = true;
    for (int i = 2; i < args.size(); ++i) {
        if (args[i] == u"--status"_qs)
            status = args.value(++i).toInt();
        else if (args[i] == u"--crash-after"_qs)
            QTimer::singleShot(args.value(++i).toInt(), [] { std::fprintf(stderr, "helper: crashing\n"); std::abort(); });
        else if (args[i] == u"--ignore-term"_qs)
            std::signal(SIGTERM, SIG_IGN);
        else if (args[i] == u"--no-listen"_qs)
            listen = false;
        else if (args[i] == u"--print"_qs)
            std::printf("%s\n", qPrintable(args.value(++i)));
    }
    std::fflush(stdout);
    QTcpServer server;
    if (listen && !server.listen(QHostAddress::LocalHost, port)) {
        std::fprintf(stderr, "helper: cannot listen on %u\n", port);
        return 3;
    }
    QObject::connect(&server, &QTcpServer::newConnection, [&] {
        while (QTcpSocket *s = server.nextPendingConnection()) {
            QObject::connect(s, &QTcpSocket::readyRead, s, [s, status] {
                s->readAll();
                s->write("HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                s->disconnectFromHost();
            });
            QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    });
    return app.exec();
}
