#include "server.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketServer>

Q_LOGGING_CATEGORY(lcServer, "pgext.realtime", QtInfoMsg)

namespace Realtime {

using Core::Error;

namespace {
// Counts a TCP connection against the caps for as long as its socket exists.
class SocketSlot : public QObject
{
public:
    explicit SocketSlot(QObject *socket) : QObject(socket) {}
    ~SocketSlot() override
    {
        if (release)
            release();
    }
    std::function<void()> release;
};
}

// Checks failing this long (PostgreSQL away) make the server not ready.
static constexpr qint64 ChecksFailingMs = 10000;

Core::Result<std::unique_ptr<Server>> Server::create(const ServerConfig &config, QObject *parent)
{
    Core::JwtVerifier::Config jc;
    jc.secret = config.jwtSecret;
    jc.audience = config.jwtAudience;
    jc.roleClaimKey = config.roleClaimKey;
    jc.anonymousRole = config.anonRole;
    auto jwt = Core::JwtVerifier::create(jc);
    if (!jwt)
        return jwt.error();
    return std::unique_ptr<Server>(new Server(config, *jwt, parent));
}

Server::Server(const ServerConfig &config, Core::JwtVerifier jwt, QObject *parent)
    : QObject(parent), m_config(config), m_jwt(std::move(jwt))
{
    m_ws = new QWebSocketServer(u"pg_events_ws/"_qs + QStringLiteral(PGEXT_VERSION), QWebSocketServer::NonSecureMode, this);
    m_ws->setHandshakeTimeout(config.handshakeTimeoutMs);
    connect(m_ws, &QWebSocketServer::newConnection, this, &Server::onWebSocket);
    connect(m_ws, &QWebSocketServer::acceptError, this, [](QAbstractSocket::SocketError e) {
        qCWarning(lcServer) << "WebSocket accept error" << e;
    });
    connect(m_ws, &QWebSocketServer::serverError, this, [](QWebSocketProtocol::CloseCode code) {
        qCInfo(lcServer) << "WebSocket handshake refused:" << code;
    });
    connect(&m_tcp, &QTcpServer::newConnection, this, &Server::onTcpConnection);
    connect(&m_tcp, &QTcpServer::acceptError, this, [](QAbstractSocket::SocketError e) {
        qCWarning(lcServer) << "accept error" << e;
    });

    Authorizer::Options ao;
    ao.conninfo = config.databaseUrl;
    ao.poolSize = config.poolSize;
    ao.preRequest = config.preRequest;
    ao.searchPath = config.searchPath;
    m_authorizer = new Authorizer(ao, this);

    Pipeline::Limits limits;
    limits.batchEvents = config.batchEvents;
    limits.queueBytes = config.maxQueueBytes;
    limits.replayBufferBytes = config.maxOutgoingBytes;
    limits.subscribeWaitMs = config.subscribeWaitMs;
    limits.filterBeforeRls = config.filterBeforeRls;
    m_pipeline = new Pipeline(config.window, limits, m_authorizer, this);

    m_stream = new ReplicationStream(config.replicationUrl.isEmpty() ? config.databaseUrl : config.replicationUrl, config.slot,
                                     config.chunkEvents, this);
    m_stream->setConfirmProvider([this] { return m_pipeline->confirmPosition(m_stream->serverWalEnd()); });
    connect(m_stream, &ReplicationStream::chunkReceived, m_pipeline, &Pipeline::append);
    connect(m_stream, &ReplicationStream::caughtUp, m_pipeline, &Pipeline::markCaughtUp);
    connect(m_stream, &ReplicationStream::stateChanged, this, [this](ReplicationStream::State s) {
        qCInfo(lcServer) << "replication" << s;
        if (s == ReplicationStream::State::Streaming)
            m_pipeline->slotStartedAt(m_stream->slotStartLsn());
    });
    connect(m_stream, &ReplicationStream::problem, this, [](const Error &e) {
        qCWarning(lcServer).noquote() << "replication stream:" << e.message;
    });
    connect(m_stream, &ReplicationStream::slotReset, m_pipeline, &Pipeline::historyLost);
    connect(m_stream, &ReplicationStream::decodeFailed, this, [this](const Error &e, quint64 txLsn) {
        ++m_streamErrors;
        m_pipeline->stall(e, txLsn);
    });
    connect(m_pipeline, &Pipeline::flowControl, m_stream, &ReplicationStream::setPaused);

    m_walTimer.setInterval(2000);
    connect(&m_walTimer, &QTimer::timeout, this, [this] {
        if (m_authorizer->isReady())
            m_authorizer->currentWalLsn([this](quint64 lsn) { m_currentWal = lsn; });
    });
    m_trimTimer.setInterval(1000);
    connect(&m_trimTimer, &QTimer::timeout, this, [this] { m_pipeline->trimWindow(QDateTime::currentMSecsSinceEpoch()); });
}

Server::~Server()
{
    // Sessions go first, while the pipeline they unregister from still exists.
    const auto sessions = m_sessions;
    m_sessions.clear();
    qDeleteAll(sessions);
    m_stream->stop();
    // Sockets still open die with m_tcp, after the counters they would update.
    *m_alive = false;
}

Core::Status Server::listen()
{
    const QHostAddress address(m_config.host);
    if (address.isNull())
        return Error::validation(u"server.host \"%1\" is not an IP address"_qs.arg(m_config.host));
    if (!m_tcp.listen(address, quint16(m_config.port)))
        return Error::make(Error::Kind::Process, u"cannot listen on %1:%2: %3"_qs.arg(m_config.host).arg(m_config.port).arg(m_tcp.errorString()),
                           u"Another program uses the port; set PG_EVENTS_WS_SERVER_PORT or [server] port."_qs);
    m_authorizer->open();
    m_stream->start();
    m_trimTimer.start();
    m_walTimer.start();
    qCInfo(lcServer).noquote() << "pg_events_ws listening on" << m_config.host + u':' + QString::number(port());
    return {};
}

quint16 Server::port() const
{
    return m_tcp.serverPort();
}

bool Server::isStreaming() const
{
    return m_stream->state() == ReplicationStream::State::Streaming;
}

void Server::shutdown()
{
    m_shuttingDown = true;
    m_tcp.close();
    const auto sessions = m_sessions;
    for (Session *s : sessions)
        s->shutdown(u"server_shutting_down"_qs, u"the server is shutting down; reconnect and resume with your cursor"_qs);
    m_stream->stop();
    if (m_sessions.isEmpty())
        Q_EMIT shutdownComplete();
    else
        QTimer::singleShot(2000, this, &Server::shutdownComplete); // don't wait forever for slow closers
}

// ---- connections -----------------------------------------------------------------

void Server::onTcpConnection()
{
    while (QTcpSocket *socket = m_tcp.nextPendingConnection()) {
        const QHostAddress peer = socket->peerAddress();
        if (m_shuttingDown || m_sockets >= m_config.maxConnections || m_perAddress.value(peer) >= m_config.maxConnectionsPerIp) {
            ++m_rejectedConnections;
            answerHttp(socket, 503, "text/plain", "too many connections\n");
            continue;
        }
        ++m_sockets;
        ++m_perAddress[peer];
        // Released when the socket is destroyed, whoever destroys it: a child object,
        // because QWebSocket cuts the connections of the sockets it takes over.
        auto *slot = new SocketSlot(socket);
        slot->release = [this, peer, alive = m_alive] {
            if (!*alive)
                return;
            --m_sockets;
            if (--m_perAddress[peer] <= 0)
                m_perAddress.remove(peer);
        };
        // Small frames must leave at once: Nagle's algorithm plus delayed ACKs would add
        // ~40 ms to every event.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        // Read the request head ourselves: route plain HTTP, check Origin, and only then
        // let Qt upgrade. Nothing is consumed, so Qt sees the request untouched.
        auto *timer = new QTimer(socket);
        timer->setSingleShot(true);
        connect(timer, &QTimer::timeout, socket, [socket] { socket->abort(); socket->deleteLater(); });
        timer->start(m_config.handshakeTimeoutMs);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { inspectRequest(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void Server::answerHttp(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body)
{
    static const QHash<int, QByteArray> reasons = {{200, "OK"}, {400, "Bad Request"}, {403, "Forbidden"},
                                                   {404, "Not Found"}, {405, "Method Not Allowed"},
                                                   {431, "Request Header Fields Too Large"}, {503, "Service Unavailable"}};
    socket->disconnect(this);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasons.value(status, "Error") + "\r\n"
                          "Content-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(body.size())
                          + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
    socket->write(response);
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    socket->disconnectFromHost();
    if (socket->state() == QAbstractSocket::UnconnectedState)
        socket->deleteLater();
}

bool Server::originAllowed(const QByteArray &origin) const
{
    if (origin.isEmpty())
        return true; // not a browser: browsers always send Origin on WebSocket handshakes
    if (m_config.allowedOrigins.contains(u"*"_qs))
        return true;
    const QString o = QString::fromUtf8(origin);
    if (m_config.allowedOrigins.isEmpty()) {
        const QUrl url(o);
        return url.host() == u"localhost"_qs || url.host() == u"127.0.0.1"_qs || url.host() == u"[::1]"_qs || url.host() == u"::1"_qs;
    }
    return m_config.allowedOrigins.contains(o);
}

void Server::inspectRequest(QTcpSocket *socket)
{
    const QByteArray peek = socket->peek(16384);
    const qsizetype end = peek.indexOf("\r\n\r\n");
    if (end < 0) {
        if (peek.size() >= 16384)
            answerHttp(socket, 431, "text/plain", "request head too large\n");
        return; // wait for the rest
    }
    const QList<QByteArray> lines = peek.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3) {
        answerHttp(socket, 400, "text/plain", "bad request\n");
        return;
    }
    QHash<QByteArray, QByteArray> headers;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            headers.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    const QByteArray method = requestLine[0];
    const QByteArray path = requestLine[1].split('?').value(0);
    if (headers.value("upgrade").toLower() == "websocket") {
        if (!originAllowed(headers.value("origin"))) {
            ++m_rejectedConnections;
            qCInfo(lcServer) << "refused origin" << headers.value("origin");
            answerHttp(socket, 403, "text/plain", "origin not allowed\n");
            return;
        }
        socket->disconnect(this);
        for (QObject *child : socket->children())
            if (qobject_cast<QTimer *>(child))
                child->deleteLater(); // Qt's own handshake timeout takes over
        disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        // QWebSocket uses the socket but never deletes it: the session takes it over, and
        // a handshake that fails or times out leaves it to us.
        const QString key = socket->peerAddress().toString() + u'/' + QString::number(socket->peerPort());
        m_upgrading.insert(key, socket);
        connect(socket, &QTcpSocket::disconnected, this, [this, socket, key] {
            if (m_upgrading.value(key) == socket) {
                m_upgrading.remove(key);
                socket->deleteLater();
            }
        });
        m_ws->handleConnection(socket);
        return;
    }
    if (method != "GET" && method != "HEAD") {
        answerHttp(socket, 405, "text/plain", "method not allowed\n");
        return;
    }
    if (path == "/health/live") {
        // Liveness: the event loop answers. A busy server (lag, slow checks) is alive; a
        // supervisor restarts only on this.
        answerHttp(socket, m_shuttingDown ? 503 : 200, "application/json",
                   m_shuttingDown ? "{\"status\":\"shutting_down\"}\n" : "{\"status\":\"alive\"}\n");
    } else if (path == "/health" || path == "/health/ready") {
        bool ok = false;
        const QByteArray body = healthJson(&ok);
        answerHttp(socket, ok ? 200 : 503, "application/json", body);
    } else if (path == "/metrics") {
        answerHttp(socket, 200, "text/plain; version=0.0.4", metricsText());
    } else {
        answerHttp(socket, 404, "text/plain", "not found: use a WebSocket, /health, /health/live or /metrics\n");
    }
}

void Server::onWebSocket()
{
    while (QWebSocket *socket = m_ws->nextPendingConnection()) {
        // Qt's own limits sit at twice ours, so that we answer message_too_large ourselves;
        // only beyond them does Qt close with 1009 before we see anything.
        const quint64 hard = quint64(std::max(m_config.maxFrameBytes, m_config.maxMessageBytes)) * 2;
        socket->setMaxAllowedIncomingFrameSize(hard);
        socket->setMaxAllowedIncomingMessageSize(hard);
        SessionContext ctx;
        ctx.config = &m_config;
        ctx.jwt = &m_jwt;
        ctx.authorizer = m_authorizer;
        ctx.pipeline = m_pipeline;
        ctx.counters = &m_counters;
        QTcpSocket *tcp = m_upgrading.take(socket->peerAddress().toString() + u'/' + QString::number(socket->peerPort()));
        auto *session = new Session(ctx, socket, tcp, m_pipeline->head(), this);
        m_sessions.insert(session);
        connect(session, &Session::closed, this, [this](Session *s) {
            if (!m_sessions.remove(s))
                return;
            s->deleteLater();
            if (m_shuttingDown && m_sessions.isEmpty())
                Q_EMIT shutdownComplete();
        });
    }
}

// ---- health and metrics ----------------------------------------------------------

qint64 Server::lagBytes() const
{
    // With nothing in the pipeline, everything PostgreSQL has sent us is processed: the
    // walsender only reports positions it has decoded past.
    quint64 processed = m_pipeline->processedLsn();
    if (m_pipeline->isIdle() && !m_stream->isPaused() && !m_stream->isStopped())
        processed = std::max(processed, m_stream->serverWalEnd());
    const quint64 current = std::max(m_currentWal, m_stream->serverWalEnd());
    return current > processed ? qint64(current - processed) : 0;
}

bool Server::isReady(QStringList *reasons) const
{
    QStringList why;
    if (m_shuttingDown)
        why << u"shutting down"_qs;
    if (!isStreaming())
        why << u"the replication stream is not connected"_qs;
    if (!m_authorizer->isReady())
        why << u"no connection for checks"_qs;
    if (!m_authorizer->problem().isEmpty())
        why << m_authorizer->problem();
    if (m_pipeline->isStalled() || m_pipeline->stallError())
        why << u"delivery stopped: %1"_qs.arg(m_pipeline->stallError()->message);
    if (!m_pipeline->isReady())
        why << u"reading the history retained by the slot"_qs;
    if (m_pipeline->failingForMs() > ChecksFailingMs)
        why << u"checks have failed for %1 s"_qs.arg(m_pipeline->failingForMs() / 1000);
    if (reasons)
        *reasons = why;
    return why.isEmpty();
}

QByteArray Server::healthJson(bool *ok) const
{
    QStringList reasons;
    *ok = isReady(&reasons);
    const bool streaming = isStreaming();
    const bool db = m_authorizer->isReady();
    QJsonObject o{{u"status"_qs, *ok ? u"ok"_qs : u"degraded"_qs},
                  {u"reasons"_qs, QJsonArray::fromStringList(reasons)},
                  {u"database"_qs, db ? u"connected"_qs : u"disconnected"_qs},
                  {u"replication"_qs, streaming ? (m_stream->isPaused() ? u"paused"_qs : u"streaming"_qs) : u"disconnected"_qs},
                  {u"slot"_qs, m_config.slot},
                  {u"head"_qs, m_pipeline->head().toString()},
                  {u"confirmed_lsn"_qs, Core::Lsn::format(m_stream->lastConfirmed())},
                  {u"lag_bytes"_qs, lagBytes()},
                  {u"window_events"_qs, m_pipeline->window().size()},
                  {u"connections"_qs, int(m_sessions.size())}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

QByteArray Server::metricsText() const
{
    const Pipeline::Stats &p = m_pipeline->stats();
    QByteArray out;
    auto metric = [&out](const char *name, const char *type, const char *help, qint64 value) {
        out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' + name + ' '
               + QByteArray::number(value) + '\n';
    };
    metric("pg_events_ws_connections", "gauge", "Open WebSocket connections.", m_sessions.size());
    metric("pg_events_ws_sockets", "gauge", "Accepted TCP connections, upgraded or not.", m_sockets);
    metric("pg_events_ws_subscriptions", "gauge", "Active subscriptions.", m_pipeline->subscriptionCount());
    metric("pg_events_ws_events_in_total", "counter", "Changes and events read from pg_events.", p.eventsIn);
    metric("pg_events_ws_events_out_total", "counter", "Messages sent to subscribers.", p.messagesOut);
    metric("pg_events_ws_transactions_total", "counter", "Transactions processed.", p.transactions);
    metric("pg_events_ws_duplicate_transactions_total", "counter", "Transactions the slot sent again, skipped.", p.duplicatesDropped);
    metric("pg_events_ws_rls_queries_total", "counter", "Round trips to PostgreSQL for checks (one per batch of transactions).", p.checkRounds);
    metric("pg_events_ws_rls_groups_total", "counter", "(identity, table) row-level-security questions in them.", p.checkGroups);
    metric("pg_events_ws_rls_rows_checked_total", "counter", "Row images judged by PostgreSQL.", p.rowsChecked);
    metric("pg_events_ws_rls_rows_visible_total", "counter", "Row images found visible.", p.rowsVisible);
    metric("pg_events_ws_check_retries_total", "counter", "Check rounds asked again (not visible yet, PostgreSQL away).", p.checkRetries);
    metric("pg_events_ws_subscriptions_ended_total", "counter", "Subscriptions the server ended (check failed, privilege lost, resync).", p.subscriptionsEnded);
    metric("pg_events_ws_rows_withheld_total", "counter", "Changes that could not be judged; the subscriber was told.", p.rowsWithheld);
    metric("pg_events_ws_replays_total", "counter", "Subscriptions resumed with since.", p.replays);
    metric("pg_events_ws_stream_pauses_total", "counter", "Times the replication stream was paused (backpressure).", p.pauses);
    metric("pg_events_ws_table_reloads_total", "counter", "Batches that found a subscribed table changed.", p.tableReloads);
    metric("pg_events_ws_stream_errors_total", "counter", "Documents that could not be decoded (delivery stops).", m_streamErrors);
    metric("pg_events_ws_slow_consumers_total", "counter", "Connections closed as slow consumers.", m_counters.slowConsumers);
    metric("pg_events_ws_rate_limited_total", "counter", "Subscriptions refused by the replay rate limit.", m_counters.rateLimited);
    metric("pg_events_ws_refused_total", "counter", "Auth and subscribe requests refused.", m_counters.refused);
    metric("pg_events_ws_unavailable_total", "counter", "Requests answered unavailable (PostgreSQL away).", m_counters.unavailable);
    metric("pg_events_ws_rejected_connections_total", "counter", "Connections refused (limits, origin).", m_rejectedConnections);
    metric("pg_events_ws_replication_lag_bytes", "gauge", "WAL written by PostgreSQL but not yet through this server.", lagBytes());
    metric("pg_events_ws_replication_connected", "gauge", "1 while the replication stream is live.", isStreaming() ? 1 : 0);
    metric("pg_events_ws_ready", "gauge", "1 while the server is ready to serve (see /health).", isReady() ? 1 : 0);
    metric("pg_events_ws_queue_bytes", "gauge", "Bytes of transactions waiting in the pipeline.", m_pipeline->queuedBytes());
    metric("pg_events_ws_replay_window_events", "gauge", "Events retained for resume.", m_pipeline->window().size());
    metric("pg_events_ws_replay_window_bytes", "gauge", "Bytes retained for resume.", m_pipeline->window().bytes());
    return out;
}

} // namespace Realtime
