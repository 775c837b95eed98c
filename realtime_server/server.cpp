#include "server.h"

#include "session.h"

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
using Core::PgEvent;

// A transaction on its way through the pipeline.
struct Server::Pending
{
    std::vector<WindowEntryPtr> entries;
    quint64 endLsn = 0;
    quint64 xid = 0;
    // Visible row keys per "table\x1eidentity"; present means checked.
    QHash<QString, QSet<QString>> visible;
    int outstanding = 0;
};

static QString checkKey(const QString &table, const Identity &who)
{
    return table + u'\x1e' + who.key();
}

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
    : QObject(parent), m_config(config), m_jwt(std::move(jwt)), m_window(config.window)
{
    m_ws = new QWebSocketServer(u"pg_events_ws/"_qs + QStringLiteral(PGEXT_VERSION), QWebSocketServer::NonSecureMode, this);
    m_ws->setHandshakeTimeout(config.handshakeTimeoutMs);
    connect(m_ws, &QWebSocketServer::newConnection, this, &Server::onWebSocket);
    connect(&m_tcp, &QTcpServer::newConnection, this, &Server::onTcpConnection);

    QString conninfo = config.databaseUrl;
    m_stream = new ReplicationStream(conninfo, config.slot, this);
    m_stream->setConfirmProvider([this] { return confirmPosition(); });
    connect(m_stream, &ReplicationStream::transactionReceived, this, &Server::onTransaction);
    connect(m_stream, &ReplicationStream::stateChanged, this, [this](ReplicationStream::State s) {
        qCInfo(lcServer) << "replication" << s;
        // The slot resends transactions committed at or after its confirmed position;
        // anything older is gone, so older cursors must get cursor_too_old.
        if (s == ReplicationStream::State::Streaming)
            m_window.setHorizon({m_stream->slotStartLsn(), 0});
    });
    connect(m_stream, &ReplicationStream::slotReset, this, [this](quint64 lsn) {
        // The slot lost WAL: nothing before now can be replayed. Tell every subscriber to resync.
        m_window.setHorizon({lsn, 0});
        for (Session *s : std::as_const(m_sessions))
            s->sendError(u"cursor_too_old"_qs, u"the server lost part of the change history; resynchronise"_qs);
    });
    m_authorizer = new Authorizer(conninfo, config.poolSize, this);

    m_walTimer.setInterval(2000);
    connect(&m_walTimer, &QTimer::timeout, this, [this] {
        if (m_authorizer->isReady())
            m_authorizer->currentWalLsn([this](quint64 lsn) { m_currentWal = lsn; });
    });
    m_trimTimer.setInterval(1000);
    connect(&m_trimTimer, &QTimer::timeout, this, [this] { m_window.trim(QDateTime::currentMSecsSinceEpoch()); });
}

Server::~Server()
{
    // Sessions go first, while the subscription index they unregister from still exists.
    const auto sessions = m_sessions;
    m_sessions.clear();
    qDeleteAll(sessions);
    m_stream->stop();
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
        if (m_shuttingDown || m_sessions.size() >= m_config.maxConnections
            || m_perAddress.value(peer) >= m_config.maxConnectionsPerIp) {
            ++m_stats.rejectedConnections;
            answerHttp(socket, 503, "text/plain", "too many connections\n");
            continue;
        }
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
            ++m_stats.rejectedConnections;
            qCInfo(lcServer) << "refused origin" << headers.value("origin");
            answerHttp(socket, 403, "text/plain", "origin not allowed\n");
            return;
        }
        socket->disconnect(this);
        for (QObject *child : socket->children())
            if (qobject_cast<QTimer *>(child))
                child->deleteLater(); // Qt's own handshake timeout takes over
        disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        m_ws->handleConnection(socket);
        return;
    }
    if (method != "GET" && method != "HEAD") {
        answerHttp(socket, 405, "text/plain", "method not allowed\n");
        return;
    }
    if (path == "/health") {
        bool ok = false;
        const QByteArray body = healthJson(&ok);
        answerHttp(socket, ok ? 200 : 503, "application/json", body);
    } else if (path == "/metrics") {
        answerHttp(socket, 200, "text/plain; version=0.0.4", metricsText());
    } else {
        answerHttp(socket, 404, "text/plain", "not found: use a WebSocket, /health or /metrics\n");
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
        auto *session = new Session(this, socket, this);
        m_sessions.insert(session);
        m_perAddress[session->peer()]++;
        connect(session, &Session::closed, this, [this](Session *s) {
            if (!m_sessions.remove(s))
                return;
            if (--m_perAddress[s->peer()] <= 0)
                m_perAddress.remove(s->peer());
            s->deleteLater();
            if (m_shuttingDown && m_sessions.isEmpty())
                Q_EMIT shutdownComplete();
        });
    }
}

// ---- subscriptions ----------------------------------------------------------------

void Server::activate(const std::shared_ptr<Subscription> &sub, const QString &ref)
{
    Session *session = sub->session;
    if (!session || sub->state == Subscription::State::Closed)
        return;
    if (sub->since && !m_window.canServe(*sub->since)) {
        session->sendError(u"cursor_too_old"_qs,
                           u"events after this cursor are no longer retained; resynchronise and subscribe without since"_qs,
                           sub->id, ref);
        session->dropSubscription(sub->id);
        return;
    }
    // From here on the pipeline delivers to this subscription (buffered while replaying),
    // so nothing after `head` can be missed.
    sub->state = sub->since ? Subscription::State::Replaying : Subscription::State::Live;
    if (sub->isChannel)
        m_byChannel[sub->channel].append(sub);
    else
        m_byTable[sub->table].append(sub);
    QJsonObject ok{{u"type"_qs, u"subscribed"_qs}, {u"id"_qs, sub->id}, {u"cursor"_qs, m_head.toString()}};
    session->send(ok, ref);
    if (!sub->since)
        return;
    std::vector<WindowEntryPtr> replay;
    for (const WindowEntryPtr &e : m_window.after(*sub->since))
        if (!(m_head < e->cursor())) // later ones are in flight and arrive live
            replay.push_back(e);
    sendReplay(sub, std::move(replay));
}

void Server::sendReplay(const std::shared_ptr<Subscription> &sub, std::vector<WindowEntryPtr> entries)
{
    auto finish = [this, sub](const std::vector<WindowEntryPtr> &entries, const QSet<QString> *visible) {
        Session *session = sub->session;
        if (!session || sub->state != Subscription::State::Replaying)
            return;
        for (const WindowEntryPtr &e : entries) {
            const QByteArray frame = frameFor(*sub, *e, visible);
            if (!frame.isEmpty() && !session->sendRaw(frame))
                return;
        }
        for (const QByteArray &frame : sub->buffered)
            if (!session->sendRaw(frame))
                return;
        sub->buffered.clear();
        sub->state = Subscription::State::Live;
    };
    if (sub->isChannel || !sub->info.rowSecurity) {
        finish(entries, nullptr);
        return;
    }
    std::vector<QJsonObject> rows;
    for (const WindowEntryPtr &e : entries)
        if (e->event.qualifiedTable() == sub->table && e->event.op != PgEvent::Op::Delete)
            rows.push_back(e->event.newTuple);
    Session *session = sub->session;
    if (!session)
        return;
    ++m_stats.rlsQueries;
    // Replayed transactions committed long ago: no need to wait for visibility (xid 0).
    m_authorizer->visibleRows(session->identity(), sub->info, rows, 0,
                              [finish, entries](const QSet<QString> &visible, bool) { finish(entries, &visible); });
}

void Server::remove(const std::shared_ptr<Subscription> &sub)
{
    sub->state = Subscription::State::Closed;
    if (sub->isChannel) {
        auto &list = m_byChannel[sub->channel];
        list.removeAll(sub);
        if (list.isEmpty())
            m_byChannel.remove(sub->channel);
    } else {
        auto &list = m_byTable[sub->table];
        list.removeAll(sub);
        if (list.isEmpty())
            m_byTable.remove(sub->table);
    }
}

// ---- the pipeline -----------------------------------------------------------------

void Server::onTransaction(const Transaction &tx)
{
    // After a reconnect or restart the slot resends from its confirmed position:
    // commit LSNs only grow, so anything not newer is a duplicate.
    if (tx.lsn <= m_lastTxLsn)
        return;
    m_lastTxLsn = tx.lsn;
    ++m_stats.transactions;
    m_queue.push_back(tx);
    if (!m_busy)
        processNext();
}

void Server::processNext()
{
    if (m_queue.empty()) {
        m_busy = false;
        return;
    }
    m_busy = true;
    Transaction tx = std::move(m_queue.front());
    m_queue.pop_front();
    auto work = std::make_shared<Pending>();
    work->endLsn = tx.endLsn;
    work->xid = tx.xid;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (PgEvent &event : tx.events) {
        auto entry = std::make_shared<WindowEntry>();
        entry->commitTime = tx.commitTime;
        entry->txLsn = tx.lsn;
        entry->receivedMs = now;
        entry->bytes = tx.events.empty() ? 0 : tx.bytes / qint64(tx.events.size());
        entry->event = std::move(event);
        m_window.append(entry);
        work->entries.push_back(std::move(entry));
    }
    m_stats.eventsIn += qint64(work->entries.size());
    m_window.trim(now);
    deliver(work);
}

void Server::deliver(const std::shared_ptr<Pending> &work)
{
    // Which (table, identity) pairs still need an RLS answer for this transaction? Asked
    // again each round, so a subscription that appeared meanwhile is checked too.
    struct Ask { TableInfo info; Identity who; std::vector<QJsonObject> rows; };
    QHash<QString, Ask> asks;
    for (const WindowEntryPtr &e : work->entries) {
        const PgEvent &ev = e->event;
        if (ev.op != PgEvent::Op::Insert && ev.op != PgEvent::Op::Update)
            continue;
        const auto subs = m_byTable.value(ev.qualifiedTable());
        for (const auto &sub : subs) {
            Session *session = sub->session;
            if (!session || !sub->info.rowSecurity || !sub->events.contains(PgEvent::opName(ev.op)))
                continue;
            const QString key = checkKey(sub->table, session->identity());
            if (work->visible.contains(key))
                continue;
            Ask &ask = asks[key];
            ask.info = sub->info;
            ask.who = session->identity();
            ask.rows.push_back(ev.newTuple);
        }
    }
    if (!asks.isEmpty()) {
        work->outstanding = int(asks.size());
        for (auto it = asks.begin(); it != asks.end(); ++it) {
            ++m_stats.rlsQueries;
            const QString key = it.key();
            m_authorizer->visibleRows(it->who, it->info, it->rows, work->xid, [this, work, key](const QSet<QString> &visible, bool) {
                work->visible.insert(key, visible);
                if (--work->outstanding == 0)
                    deliver(work);
            });
        }
        return;
    }

    for (const WindowEntryPtr &e : work->entries) {
        const PgEvent &ev = e->event;
        const auto subs = ev.op == PgEvent::Op::Message ? m_byChannel.value(ev.channel) : m_byTable.value(ev.qualifiedTable());
        for (const auto &sub : subs) {
            Session *session = sub->session;
            if (!session || sub->state == Subscription::State::Closed || sub->state == Subscription::State::Pending)
                continue;
            const QSet<QString> *visible = nullptr;
            if (!sub->isChannel && sub->info.rowSecurity) {
                const auto it = work->visible.constFind(checkKey(sub->table, session->identity()));
                visible = it == work->visible.constEnd() ? nullptr : &*it;
            }
            const QByteArray frame = frameFor(*sub, *e, visible);
            if (frame.isEmpty())
                continue;
            if (sub->state == Subscription::State::Replaying)
                sub->buffered.push_back(frame);
            else
                session->sendRaw(frame);
        }
        m_head = std::max(m_head, e->cursor());
    }
    m_lastEndLsn = std::max(m_lastEndLsn, work->endLsn);
    if (!work->entries.empty())
        Q_EMIT headAdvanced(m_head);
    processNext();
}

QByteArray Server::frameFor(const Subscription &sub, const WindowEntry &entry, const QSet<QString> *visible) const
{
    const PgEvent &ev = entry.event;
    QJsonObject msg;
    if (sub.isChannel) {
        if (ev.op != PgEvent::Op::Message || ev.channel != sub.channel)
            return {};
        msg = {{u"type"_qs, u"event"_qs}, {u"sub"_qs, sub.id}, {u"cursor"_qs, ev.cursor().toString()},
               {u"xid"_qs, qint64(ev.xid)}, {u"commit_time"_qs, entry.commitTime}, {u"channel"_qs, ev.channel},
               {u"payload"_qs, ev.payload}};
    } else {
        if (ev.op == PgEvent::Op::Message || ev.op == PgEvent::Op::Truncate || ev.qualifiedTable() != sub.table)
            return {};
        const QString op = PgEvent::opName(ev.op);
        if (!sub.events.contains(op))
            return {};
        const bool rls = sub.info.rowSecurity;
        if (ev.op == PgEvent::Op::Delete) {
            // The filter may use columns a default replica identity leaves out: judge what
            // we have and let the delete through when it cannot be judged.
            bool judgeable = true;
            for (const auto &c : sub.filter.conditions())
                judgeable = judgeable && ev.oldTuple.contains(c.column);
            if (judgeable && !sub.filter.matches(ev.oldTuple))
                return {};
        } else {
            if (rls && (!visible || !visible->contains(Authorizer::rowKey(sub.info, ev.newTuple))))
                return {};
            if (!sub.filter.matches(ev.newTuple))
                return {};
        }
        auto project = [&sub](const QJsonObject &row) {
            if (sub.select.isEmpty())
                return row;
            QJsonObject out;
            for (const QString &c : sub.select)
                if (row.contains(c))
                    out.insert(c, row.value(c));
            return out;
        };
        auto keyOnly = [&sub](const QJsonObject &row) {
            QJsonObject out;
            for (const QString &c : sub.info.primaryKey)
                out.insert(c, row.value(c));
            return out;
        };
        QJsonValue record = QJsonValue::Null;
        QJsonValue oldRecord = QJsonValue::Null;
        if (ev.op != PgEvent::Op::Delete)
            record = project(ev.newTuple);
        if (ev.hasOld)
            oldRecord = rls ? keyOnly(ev.oldTuple) : project(ev.oldTuple);
        msg = {{u"type"_qs, u"change"_qs}, {u"sub"_qs, sub.id}, {u"cursor"_qs, ev.cursor().toString()},
               {u"xid"_qs, qint64(ev.xid)}, {u"commit_time"_qs, entry.commitTime}, {u"table"_qs, sub.table},
               {u"op"_qs, op}, {u"record"_qs, record}, {u"old_record"_qs, oldRecord}};
    }
    const_cast<Server *>(this)->m_stats.eventsOut++;
    return QJsonDocument(msg).toJson(QJsonDocument::Compact);
}

quint64 Server::confirmPosition() const
{
    // Never let PostgreSQL forget what a client may still ask to replay, or what is
    // still in the pipeline; with nothing held, confirm the server's end of WAL so the
    // slot does not pin WAL written by untracked tables.
    quint64 pos = 0;
    if (!m_queue.empty())
        pos = m_queue.front().lsn;
    if (!m_window.isEmpty())
        pos = pos ? std::min(pos, m_window.oldestTransactionLsn()) : m_window.oldestTransactionLsn();
    if (pos)
        return pos;
    if (m_busy)
        return m_lastTxLsn;
    return std::max(m_stream->serverWalEnd(), m_lastEndLsn);
}

qint64 Server::lagBytes() const
{
    // With nothing in the pipeline, everything PostgreSQL has sent us is processed: the
    // walsender only reports positions it has decoded past.
    quint64 processed = m_lastEndLsn;
    if (m_queue.empty() && !m_busy)
        processed = std::max(processed, m_stream->serverWalEnd());
    const quint64 current = std::max(m_currentWal, m_stream->serverWalEnd());
    return current > processed ? qint64(current - processed) : 0;
}

QByteArray Server::healthJson(bool *ok) const
{
    const bool streaming = isStreaming();
    const bool db = m_authorizer->isReady();
    *ok = streaming && db && !m_shuttingDown;
    QJsonObject o{{u"status"_qs, *ok ? u"ok"_qs : u"degraded"_qs},
                  {u"database"_qs, db ? u"connected"_qs : u"disconnected"_qs},
                  {u"replication"_qs, streaming ? u"streaming"_qs : u"disconnected"_qs},
                  {u"slot"_qs, m_config.slot},
                  {u"head"_qs, m_head.toString()},
                  {u"confirmed_lsn"_qs, Core::Lsn::format(m_stream->lastConfirmed())},
                  {u"lag_bytes"_qs, lagBytes()},
                  {u"window_events"_qs, m_window.size()},
                  {u"connections"_qs, int(m_sessions.size())}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

QByteArray Server::metricsText() const
{
    int subs = 0;
    for (const auto &l : m_byTable)
        subs += int(l.size());
    for (const auto &l : m_byChannel)
        subs += int(l.size());
    QByteArray out;
    auto metric = [&out](const char *name, const char *type, const char *help, qint64 value) {
        out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' + name + ' '
               + QByteArray::number(value) + '\n';
    };
    metric("pg_events_ws_connections", "gauge", "Open WebSocket connections.", m_sessions.size());
    metric("pg_events_ws_subscriptions", "gauge", "Active subscriptions.", subs);
    metric("pg_events_ws_events_in_total", "counter", "Changes and events read from pg_events.", m_stats.eventsIn);
    metric("pg_events_ws_events_out_total", "counter", "Messages sent to subscribers.", m_stats.eventsOut);
    metric("pg_events_ws_transactions_total", "counter", "Transactions processed.", m_stats.transactions);
    metric("pg_events_ws_rls_queries_total", "counter", "Batched row-level-security queries.", m_stats.rlsQueries);
    metric("pg_events_ws_slow_consumers_total", "counter", "Connections closed as slow consumers.", m_stats.slowConsumers);
    metric("pg_events_ws_rejected_connections_total", "counter", "Connections refused (limits, origin).", m_stats.rejectedConnections);
    metric("pg_events_ws_replication_lag_bytes", "gauge", "WAL written by PostgreSQL but not yet through this server.", lagBytes());
    metric("pg_events_ws_replication_connected", "gauge", "1 while the replication stream is live.", isStreaming() ? 1 : 0);
    metric("pg_events_ws_replay_window_events", "gauge", "Events retained for resume.", m_window.size());
    metric("pg_events_ws_replay_window_bytes", "gauge", "Bytes retained for resume.", m_window.bytes());
    return out;
}

} // namespace Realtime
