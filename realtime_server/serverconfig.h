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

    // Checks run on `databaseUrl`, which should name a role like PostgREST's
    // authenticator: it may only switch to the roles granted to it, so a token can never
    // reach further over WebSocket than over HTTP. The replication stream needs a role
    // with REPLICATION: `replicationUrl` (default: databaseUrl).
    QString databaseUrl;
    QString replicationUrl;
    QString slot = u"pg_events_ws"_qs;
    int poolSize = 2;                 // connections for checks (the first serves live batches only)

    QByteArray jwtSecret;
    QString jwtAudience;
    QString roleClaimKey = u".role"_qs;
    QString anonRole;                 // role of connections without a token ("" = none)
    QString preRequest;               // PostgREST's db-pre-request: schema.function run before every check
    QString searchPath;               // search_path set for checks, as PostgREST sets it ("" = the role's default)

    ReplayWindow::Limits window;
    int batchEvents = 5000;           // events judged and checked in one round trip
    qint64 maxQueueBytes = 64LL * 1024 * 1024; // the replication stream pauses above this
    int chunkEvents = 1000;           // a large transaction is handed on in chunks of this many events
    int subscribeWaitMs = 30000;      // a subscription waits this long for a restarted server to catch up
    int maxReplaysPerMinute = 60;     // subscriptions with "since", per connection
    bool filterBeforeRls = true;      // not a setting: off only in bench/ to measure what filtering first saves

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
