#include "session.h"

#include "server.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QWebSocket>

namespace Realtime {

using Core::Error;

Session::Session(Server *server, QWebSocket *socket, QObject *parent)
    : QObject(parent), m_server(server), m_socket(socket), m_peer(socket->peerAddress())
{
    socket->setParent(this);
    m_expiry.setSingleShot(true);
    connect(&m_expiry, &QTimer::timeout, this, &Session::expireToken);
    connect(socket, &QWebSocket::textMessageReceived, this, &Session::onText);
    connect(socket, &QWebSocket::binaryMessageReceived, this, &Session::onBinary);
    connect(socket, &QWebSocket::textFrameReceived, this, [this](const QString &frame, bool) {
        if (frame.size() > m_server->config().maxFrameBytes)
            shutdown(u"message_too_large"_qs, u"frames are limited to %1 bytes"_qs.arg(m_server->config().maxFrameBytes));
    });
    connect(socket, &QWebSocket::disconnected, this, [this] {
        for (const auto &sub : std::as_const(m_subscriptions))
            m_server->remove(sub);
        m_subscriptions.clear();
        Q_EMIT closed(this);
    });
    if (!server->config().anonRole.isEmpty())
        m_identity.role = server->config().anonRole;
    send({{u"type"_qs, u"welcome"_qs}, {u"protocol"_qs, 1},
          {u"server"_qs, QString(u"pg_events_ws/"_qs + QStringLiteral(PGEXT_VERSION))},
          {u"cursor"_qs, server->head().toString()}});
}

Session::~Session()
{
    // The socket dies with us; its disconnected() must not reach back into the server.
    m_socket->disconnect(this);
    for (const auto &sub : std::as_const(m_subscriptions))
        m_server->remove(sub);
}

bool Session::sendRaw(const QByteArray &frame)
{
    if (m_closing)
        return false;
    // A reader that falls behind would grow our buffer without bound: cut it off and let
    // it come back with its cursor instead of silently dropping messages.
    if (m_socket->bytesToWrite() + frame.size() > m_server->config().maxOutgoingBytes) {
        m_server->stats().slowConsumers++;
        shutdown(u"slow_consumer"_qs, u"the connection fell too far behind; reconnect and resume with your last cursor"_qs);
        return false;
    }
    m_socket->sendTextMessage(QString::fromUtf8(frame));
    return true;
}

void Session::send(QJsonObject message, const QString &ref)
{
    if (!ref.isEmpty())
        message.insert(u"ref"_qs, ref);
    sendRaw(QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void Session::sendError(const QString &code, const QString &message, const QString &subId, const QString &ref)
{
    QJsonObject e{{u"type"_qs, u"error"_qs}, {u"code"_qs, code}, {u"message"_qs, message}};
    if (!subId.isEmpty())
        e.insert(u"id"_qs, subId);
    send(e, ref);
}

void Session::shutdown(const QString &code, const QString &message)
{
    if (m_closing)
        return;
    // The error must be on the wire before the close frame, whatever the buffer holds.
    QJsonObject e{{u"type"_qs, u"error"_qs}, {u"code"_qs, code}, {u"message"_qs, message}};
    m_socket->sendTextMessage(QString::fromUtf8(QJsonDocument(e).toJson(QJsonDocument::Compact)));
    m_closing = true;
    m_socket->close(code == u"server_shutting_down"_qs ? QWebSocketProtocol::CloseCodeGoingAway
                                                      : QWebSocketProtocol::CloseCodePolicyViolated, code);
    QTimer::singleShot(3000, m_socket, [this] { m_socket->abort(); });
}

void Session::dropSubscription(const QString &id)
{
    if (auto sub = m_subscriptions.take(id))
        m_server->remove(sub);
}

void Session::onBinary(const QByteArray &)
{
    sendError(u"invalid_message"_qs, u"binary frames are not part of the protocol; send JSON text frames"_qs);
}

void Session::onText(const QString &text)
{
    if (m_closing)
        return;
    if (text.size() > m_server->config().maxMessageBytes) {
        shutdown(u"message_too_large"_qs, u"messages are limited to %1 bytes"_qs.arg(m_server->config().maxMessageBytes));
        return;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        sendError(u"invalid_message"_qs, u"expected a JSON object: "_qs + (pe.error != QJsonParseError::NoError ? pe.errorString() : u"got another JSON value"_qs));
        return;
    }
    const QJsonObject msg = doc.object();
    const QJsonValue refValue = msg.value(u"ref"_qs);
    if (!refValue.isUndefined() && !refValue.isString()) {
        sendError(u"invalid_message"_qs, u"\"ref\" must be a string"_qs);
        return;
    }
    const QString ref = refValue.toString().left(256);
    const QString type = msg.value(u"type"_qs).toString();
    if (type == u"ping"_qs)
        send({{u"type"_qs, u"pong"_qs}}, ref);
    else if (type == u"auth"_qs)
        handleAuth(msg, ref);
    else if (type == u"subscribe"_qs)
        handleSubscribe(msg, ref);
    else if (type == u"unsubscribe"_qs)
        handleUnsubscribe(msg, ref);
    else
        sendError(u"invalid_message"_qs, type.isEmpty() ? u"missing \"type\""_qs : u"unknown message type \"%1\""_qs.arg(type), {}, ref);
}

void Session::handleAuth(const QJsonObject &msg, const QString &ref)
{
    const QJsonValue token = msg.value(u"token"_qs);
    if (!token.isString()) {
        sendError(u"invalid_message"_qs, u"auth needs \"token\": a JWT string"_qs, {}, ref);
        return;
    }
    auto claims = m_server->jwt().verify(token.toString(), QDateTime::currentSecsSinceEpoch());
    if (!claims) {
        sendError(claims.error().code, claims.error().message, {}, ref);
        return;
    }
    const bool changed = m_fromToken && (claims->role != m_identity.role
                                         || claims->claims.value(u"sub"_qs) != m_identity.claims.value(u"sub"_qs));
    if (changed) {
        // A refresh must be the same user; anything else starts over.
        const auto subs = m_subscriptions;
        for (const auto &sub : subs) {
            sendError(u"unauthorized"_qs, u"the token belongs to another user or role; subscribe again"_qs, sub->id);
            dropSubscription(sub->id);
        }
    }
    m_identity.role = claims->role;
    m_identity.claims = claims->claims;
    m_fromToken = true;
    m_expiry.stop();
    if (claims->exp) {
        // PostgREST accepts a token until 30 s after exp; so do we.
        const qint64 ms = (*claims->exp + m_server->jwt().config().clockSkewSeconds - QDateTime::currentSecsSinceEpoch()) * 1000;
        m_expiry.start(int(qBound(qint64(0), ms, qint64(std::numeric_limits<int>::max()))));
    }
    send({{u"type"_qs, u"auth_ok"_qs}, {u"role"_qs, claims->role},
          {u"exp"_qs, claims->exp ? QJsonValue(qint64(*claims->exp)) : QJsonValue(QJsonValue::Null)}}, ref);
}

void Session::expireToken()
{
    const auto subs = m_subscriptions;
    for (const auto &sub : subs) {
        sendError(u"token_expired"_qs, u"the token expired; send a fresh one with auth and subscribe again"_qs, sub->id);
        dropSubscription(sub->id);
    }
    if (subs.isEmpty())
        sendError(u"token_expired"_qs, u"the token expired; send a fresh one with auth"_qs);
    m_fromToken = false;
    m_identity = Identity();
    if (!m_server->config().anonRole.isEmpty())
        m_identity.role = m_server->config().anonRole;
}

void Session::handleSubscribe(const QJsonObject &msg, const QString &ref)
{
    const QJsonValue idValue = msg.value(u"id"_qs);
    const QString id = idValue.toString();
    if (!idValue.isString() || id.isEmpty() || id.size() > 128) {
        sendError(u"invalid_message"_qs, u"subscribe needs \"id\": a string of 1 to 128 characters"_qs, {}, ref);
        return;
    }
    if (m_subscriptions.contains(id)) {
        sendError(u"invalid_message"_qs, u"subscription id \"%1\" is already in use on this connection"_qs.arg(id), id, ref);
        return;
    }
    if (m_subscriptions.size() >= m_server->config().maxSubscriptions) {
        sendError(u"too_many_subscriptions"_qs, u"at most %1 subscriptions per connection"_qs.arg(m_server->config().maxSubscriptions), id, ref);
        return;
    }
    if (!hasIdentity()) {
        sendError(u"unauthorized"_qs, u"authenticate first: send {\"type\":\"auth\",\"token\":\"<JWT>\"}"_qs, id, ref);
        return;
    }
    auto sub = std::make_shared<Subscription>();
    sub->id = id;
    sub->session = this;
    if (msg.contains(u"since"_qs)) {
        const auto since = Core::EventCursor::parse(msg.value(u"since"_qs).toString());
        if (!since) {
            sendError(u"invalid_message"_qs, u"\"since\" is not a cursor this server issued"_qs, id, ref);
            return;
        }
        sub->since = since;
    }
    const bool hasTable = msg.contains(u"table"_qs), hasChannel = msg.contains(u"channel"_qs);
    if (hasTable == hasChannel) {
        sendError(u"invalid_message"_qs, u"subscribe needs exactly one of \"table\" or \"channel\""_qs, id, ref);
        return;
    }
    m_subscriptions.insert(id, sub);
    const QPointer<Session> self(this);
    auto fail = [self, id, ref](const QString &code, const QString &message) {
        if (!self)
            return;
        self->sendError(code, message, id, ref);
        self->m_subscriptions.remove(id);
    };

    if (hasChannel) {
        static const QRegularExpression channelRe(u"^[a-z_][a-z0-9_.:-]{0,62}$"_qs);
        sub->isChannel = true;
        sub->channel = msg.value(u"channel"_qs).toString();
        if (!channelRe.match(sub->channel).hasMatch()) {
            fail(u"invalid_message"_qs, u"invalid channel name; channels match [a-z_][a-z0-9_.:-]{0,62}"_qs);
            return;
        }
        m_server->authorizer().canListen(m_identity, sub->channel, m_server->config().anonRole,
                                         [self, sub, ref, fail](const Core::Result<bool> &allowed) {
            if (!self || sub->state == Subscription::State::Closed)
                return;
            if (!allowed || !*allowed) {
                fail(u"forbidden"_qs, u"not allowed to listen on channel \"%1\""_qs.arg(sub->channel));
                return;
            }
            self->m_server->activate(sub, ref);
        });
        return;
    }

    static const QRegularExpression tableRe(u"^[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*$"_qs);
    sub->table = msg.value(u"table"_qs).toString();
    if (!tableRe.match(sub->table).hasMatch()) {
        fail(u"invalid_message"_qs, u"\"table\" must be schema.table, e.g. public.tasks"_qs);
        return;
    }
    if (msg.contains(u"events"_qs)) {
        const QJsonValue events = msg.value(u"events"_qs);
        sub->events.clear();
        for (const QJsonValue &e : events.toArray()) {
            const QString op = e.toString();
            if (op != u"insert"_qs && op != u"update"_qs && op != u"delete"_qs) {
                fail(u"invalid_message"_qs, u"\"events\" may contain insert, update and delete"_qs);
                return;
            }
            sub->events.insert(op);
        }
        if (!events.isArray() || sub->events.isEmpty()) {
            fail(u"invalid_message"_qs, u"\"events\" must be a non-empty array of insert, update, delete"_qs);
            return;
        }
    }
    const QString filterText = msg.value(u"filter"_qs).toString();
    const QString selectText = msg.value(u"select"_qs).toString();
    if ((msg.contains(u"filter"_qs) && !msg.value(u"filter"_qs).isString())
        || (msg.contains(u"select"_qs) && !msg.value(u"select"_qs).isString())) {
        fail(u"invalid_message"_qs, u"\"filter\" and \"select\" must be strings"_qs);
        return;
    }
    m_server->authorizer().tableInfo(sub->table, [self, sub, ref, fail, filterText, selectText](const Core::Result<TableInfo> &info) {
        if (!self || sub->state == Subscription::State::Closed)
            return;
        if (!info) {
            fail(u"unknown_table"_qs, info.error().message);
            return;
        }
        sub->info = *info;
        auto filter = Core::RowFilter::parse(filterText, info->columns);
        if (!filter) {
            fail(u"invalid_filter"_qs, filter.error().message);
            return;
        }
        sub->filter = *filter;
        if (!selectText.isEmpty()) {
            for (const QString &c : selectText.split(u',')) {
                const QString col = c.trimmed();
                if (!info->columns.contains(col)) {
                    fail(u"invalid_filter"_qs, u"select: unknown column \"%1\""_qs.arg(col));
                    return;
                }
                sub->select << col;
            }
        }
        self->m_server->authorizer().canSelect(self->identity(), sub->table, [self, sub, ref, fail](const Core::Result<bool> &allowed) {
            if (!self || sub->state == Subscription::State::Closed)
                return;
            if (!allowed) {
                fail(u"forbidden"_qs, allowed.error().message);
                return;
            }
            if (!*allowed) {
                fail(u"forbidden"_qs, u"role \"%1\" may not SELECT from %2"_qs.arg(self->identity().role, sub->table));
                return;
            }
            self->m_server->activate(sub, ref);
        });
    });
}

void Session::handleUnsubscribe(const QJsonObject &msg, const QString &ref)
{
    const QString id = msg.value(u"id"_qs).toString();
    if (!m_subscriptions.contains(id)) {
        sendError(u"invalid_message"_qs, u"no subscription \"%1\" on this connection"_qs.arg(id), id, ref);
        return;
    }
    dropSubscription(id);
    send({{u"type"_qs, u"unsubscribed"_qs}, {u"id"_qs, id}}, ref);
}

} // namespace Realtime
