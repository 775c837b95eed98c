#pragma once

#include "replaywindow.h"
#include "result.h"

#include <QProcessEnvironment>
#include <QStringList>

namespace Realtime {

// pg_events_ws settings (docs/PROTOCOL.md#configuration). Sources, later wins:
// defaults < the project's .env (JWT_SECRET, DATABASE_URL) < the TOML file <
// environment (PG_EVENTS_WS_<SECTION>_<KEY>, plus DATABASE_URL and JWT_SECRET).
struct ServerConfig
{
    QString host = u"127.0.0.1"_qs;
    int port = 8090;
    QStringList allowedOrigins;       // empty: browsers from localhost/127.0.0.1 only; "*": any

    QString databaseUrl;
    QString slot = u"pg_events_ws"_qs;
    int poolSize = 2;                 // connections for privilege and RLS checks

    QByteArray jwtSecret;
    QString jwtAudience;
    QString roleClaimKey = u".role"_qs;
    QString anonRole;                 // role of connections without a token ("" = none)

    ReplayWindow::Limits window;

    int maxFrameBytes = 256 * 1024;
    int maxMessageBytes = 256 * 1024;
    int maxSubscriptions = 100;
    qint64 maxOutgoingBytes = 8LL * 1024 * 1024;
    int handshakeTimeoutMs = 10000;
    int maxConnections = 10000;
    int maxConnectionsPerIp = 1000;

    static Core::Result<ServerConfig> load(const QString &file, const QString &envFile,
                                           const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());
};

} // namespace Realtime
