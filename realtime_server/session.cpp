#include "session.h"

#include "authorizer.h"
#include "jwtverifier.h"
#include "pipeline.h"
#include "serverconfig.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>
#include <QTcpSocket>
#include <QWebSocket>

Q_LOGGING_CATEGORY(lcSession, "pgext.realtime.session", QtInfoMsg)

namespace Realtime {

using Core::Error;

static constexpr int UnavailableAfterMs = 10000;

Session::Session(SessionContext context, QWebSocket *socket, QTcpSocket *tcp, const Core::EventCursor &head, QObject *parent)
    : QObject(parent), m_ctx(context), m_socket(socket), m_tcp(tcp), m_peer(socket->peerAddress())
{
    socket->setParent(this);
    m_expiry.setSingleShot(true);
    connect(&m_expiry, &QTimer::timeout, this, &Session::scheduleExpiry);
    connect(socket, &QWebSocket::textMessageReceived, this, &Session::onText);
    connect(socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &) {
        sendError(u"invalid_message"_qs, u"binary frames are not part of the protocol; send JSON text frames"_qs);
    });
    connect(socket, &QWebSocket::textFrameReceived, this, [this](const QString &frame, bool) {
        if (frame.size() > m_ctx.config->maxFrameBytes)
            shutdown(u"message_too_large"_qs, u"frames are limited to %1 bytes"_qs.arg(m_ctx.config->maxFrameBytes));
    });
    connect(socket, &QWebSocket::disconnected, this, [this] {
        for (const auto &sub : std::as_const(m_subscriptions))
            m_ctx.pipeline->remove(sub);
        m_subscriptions.clear();
        Q_EMIT closed(this);
    });
    // Without a token a connection is PostgREST's anonymous request: the anonymous role,
    // with {"role": <it>} as its claims.
    if (auto anon = m_ctx.jwt->anonymous()) {
        m_identity.role = anon->role;
        m_identity.claims = anon->claims;
    }
    m_replayTokens = m_ctx.config->maxReplaysPerMinute;
    m_replayClock.start();
    send({{u"type"_qs, u"welcome"_qs}, {u"protocol"_qs, 1},
          {u"server"_qs, QString(u"pg_events_ws/"_qs + QStringLiteral(PGEXT_VERSION))}, {u"cursor"_qs, head.toString()}});
}

Session::~Session()
{
    // The socket dies with us; its disconnected() must not reach back.
    m_socket->disconnect(this);
    for (const auto &sub : std::as_const(m_subscriptions))
        m_ctx.pipeline->remove(sub);
    // The WebSocket first: it still writes to the TCP socket while it closes.
    delete m_socket;
    delete m_tcp.data();
}

bool Session::sendFrame(const QByteArray &frame)
{
    if (m_closing)
        return false;
    // A reader that falls behind would grow our buffer without bound: cut it off and let
    // it come back with its cursor instead of silently dropping messages.
    if (m_socket->bytesToWrite() + frame.size() > m_ctx.config->maxOutgoingBytes) {
        ++m_ctx.counters->slowConsumers;
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
    sendFrame(QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void Session::sendError(const QString &code, const QString &message, const QString &subId, const QString &ref)
{
    QJsonObject e{{u"type"_qs, u"error"_qs}, {u"code"_qs, code}, {u"message"_qs, message}};
    if (!subId.isEmpty())
        e.insert(u"id"_qs, subId);
    send(e, ref);
}

void Session::endSubscription(const QString &id, const QString &code, const QString &message, const QString &ref)
{
    if (!m_subscriptions.remove(id))
        return;
    sendError(code, message, id, ref);
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
        m_ctx.pipeline->remove(sub);
}

// ---- messages ------------------------------------------------------------------------

void Session::onText(const QString &text)
{
    if (m_closing)
        return;
    if (text.size() > m_ctx.config->maxMessageBytes) {
        shutdown(u"message_too_large"_qs, u"messages are limited to %1 bytes"_qs.arg(m_ctx.config->maxMessageBytes));
        return;
    }
    m_inbox.push_back(text.toUtf8());
    process();
}

void Session::process()
{
    while (!m_waitingForAuth && !m_inbox.empty() && !m_closing) {
        const QByteArray text = std::move(m_inbox.front());
        m_inbox.pop_front();
        const auto parsed = ClientMessage::parse(text);
        if (!parsed.message) {
            sendError(parsed.problem.code, parsed.problem.message, parsed.problem.id, parsed.problem.ref);
            continue;
        }
        handle(*parsed.message);
    }
}

void Session::handle(const ClientMessage &m)
{
    switch (m.type) {
    case ClientMessage::Type::Ping:
        send({{u"type"_qs, u"pong"_qs}}, m.ref);
        return;
    case ClientMessage::Type::Auth:
        handleAuth(m);
        return;
    case ClientMessage::Type::Subscribe:
        handleSubscribe(m);
        return;
    case ClientMessage::Type::Unsubscribe:
        if (m_pending.remove(m.id)) {
            send({{u"type"_qs, u"unsubscribed"_qs}, {u"id"_qs, m.id}}, m.ref);
            return;
        }
        if (!m_subscriptions.contains(m.id)) {
            sendError(u"invalid_message"_qs, u"no subscription \"%1\" on this connection"_qs.arg(m.id), m.id, m.ref);
            return;
        }
        dropSubscription(m.id);
        send({{u"type"_qs, u"unsubscribed"_qs}, {u"id"_qs, m.id}}, m.ref);
        return;
    }
}

bool Session::retryLater(const ClientMessage &m, int attempt, const QString &why, const std::function<void(int)> &again)
{
    // About 10 s of attempts (0.2, 0.4, 0.8, 1.6, then 2 s each), then say so.
    int waited = 0;
    for (int i = 0; i < attempt; ++i)
        waited += std::min(2000, 200 << std::min(i, 4));
    if (waited >= UnavailableAfterMs) {
        ++m_ctx.counters->unavailable;
        qCWarning(lcSession).noquote() << "answering unavailable:" << why;
        sendError(u"unavailable"_qs, u"the server cannot reach the database to check this (%1); try again"_qs.arg(why), m.id, m.ref);
        return false;
    }
    const QPointer<Session> self(this);
    QTimer::singleShot(std::min(2000, 200 << std::min(attempt, 4)), this, [self, again, attempt] {
        if (self && !self->m_closing)
            again(attempt + 1);
    });
    return true;
}

void Session::handleAuth(const ClientMessage &m)
{
    auto claims = m_ctx.jwt->verify(m.token, QDateTime::currentSecsSinceEpoch());
    if (!claims) {
        ++m_ctx.counters->refused;
        sendError(claims.error().code, claims.error().message, {}, m.ref);
        return;
    }
    Identity next;
    next.role = claims->role;
    next.claims = claims->claims;
    next.fromToken = true;
    // PostgREST switches role and runs db-pre-request on every request: a role that does
    // not exist, one the server may not switch to, or a pre-request that refuses, is
    // refused now rather than on the first subscription.
    m_waitingForAuth = true;
    const QPointer<Session> self(this);
    const std::optional<qint64> exp = claims->exp;
    auto run = std::make_shared<std::function<void(int)>>();
    *run = [self, next, exp, m, run](int n) {
        if (!self)
            return;
        self->m_ctx.authorizer->checkIdentity(next, [self, next, exp, m, run, n](Authorizer::Outcome outcome) {
            if (!self || self->m_closing)
                return;
            if (outcome.kind == Authorizer::Outcome::Kind::Unavailable) {
                if (self->retryLater(m, n, outcome.message, *run))
                    return;
            } else if (outcome.kind == Authorizer::Outcome::Kind::Refused) {
                ++self->m_ctx.counters->refused;
                self->sendError(outcome.code, outcome.message, {}, m.ref);
            } else {
                const bool changed = self->m_identity.fromToken
                                     && (next.role != self->m_identity.role
                                         || next.claims.value(u"sub"_qs) != self->m_identity.claims.value(u"sub"_qs));
                if (changed) {
                    // A refresh must be the same user; anything else starts over.
                    self->m_pending.clear(); // their checks ran as the old identity
                    const auto subs = self->m_subscriptions;
                    for (const auto &sub : subs) {
                        self->sendError(u"unauthorized"_qs, u"the token belongs to another user or role; subscribe again"_qs, sub->id());
                        self->dropSubscription(sub->id());
                    }
                }
                self->m_identity = next;
                self->m_tokenExp = exp;
                self->scheduleExpiry();
                self->send({{u"type"_qs, u"auth_ok"_qs}, {u"role"_qs, next.role},
                            {u"exp"_qs, exp ? QJsonValue(qint64(*exp)) : QJsonValue(QJsonValue::Null)}},
                           m.ref);
            }
            self->m_waitingForAuth = false;
            self->process();
        });
    };
    (*run)(0);
}

void Session::scheduleExpiry()
{
    m_expiry.stop();
    if (!m_tokenExp)
        return;
    // PostgREST accepts a token until 30 s after exp; so do we. QTimer takes an int of
    // milliseconds (24.8 days): far expiries are reached in steps.
    const qint64 step = expiryStepMs(*m_tokenExp, QDateTime::currentSecsSinceEpoch(), m_ctx.jwt->config().clockSkewSeconds);
    if (step <= 0) {
        expireToken();
        return;
    }
    m_expiry.start(int(step));
}

qint64 Session::expiryStepMs(qint64 expSeconds, qint64 nowSeconds, int skewSeconds)
{
    const qint64 ms = (expSeconds + skewSeconds - nowSeconds) * 1000;
    return ms <= 0 ? 0 : std::min<qint64>(ms, qint64(24) * 3600 * 1000);
}

void Session::expireToken()
{
    m_pending.clear();
    const auto subs = m_subscriptions;
    for (const auto &sub : subs) {
        sendError(u"token_expired"_qs, u"the token expired; send a fresh one with auth and subscribe again"_qs, sub->id());
        dropSubscription(sub->id());
    }
    if (subs.isEmpty())
        sendError(u"token_expired"_qs, u"the token expired; send a fresh one with auth"_qs);
    m_tokenExp.reset();
    m_identity = Identity();
    if (auto anon = m_ctx.jwt->anonymous()) {
        m_identity.role = anon->role;
        m_identity.claims = anon->claims;
    }
}

bool Session::takeReplayToken()
{
    // A token bucket: `max_replays_per_minute` at once, refilled over a minute. Each
    // replay may read the whole window and check it against PostgreSQL.
    const double rate = m_ctx.config->maxReplaysPerMinute / 60000.0;
    m_replayTokens = std::min<double>(m_ctx.config->maxReplaysPerMinute, m_replayTokens + m_replayClock.restart() * rate);
    if (m_replayTokens < 1)
        return false;
    m_replayTokens -= 1;
    return true;
}

void Session::handleSubscribe(const ClientMessage &m)
{
    if (m_subscriptions.contains(m.id) || m_pending.contains(m.id)) {
        sendError(u"invalid_message"_qs, u"subscription id \"%1\" is already in use on this connection"_qs.arg(m.id), m.id, m.ref);
        return;
    }
    if (m_subscriptions.size() + m_pending.size() >= m_ctx.config->maxSubscriptions) {
        sendError(u"too_many_subscriptions"_qs, u"at most %1 subscriptions per connection"_qs.arg(m_ctx.config->maxSubscriptions), m.id, m.ref);
        return;
    }
    if (!m_identity.isValid()) {
        sendError(u"unauthorized"_qs, u"authenticate first: send {\"type\":\"auth\",\"token\":\"<JWT>\"}"_qs, m.id, m.ref);
        return;
    }
    if (m.since && !takeReplayToken()) {
        ++m_ctx.counters->rateLimited;
        sendError(u"rate_limited"_qs, u"at most %1 subscriptions with since per minute on a connection; wait and try again"_qs
                                          .arg(m_ctx.config->maxReplaysPerMinute), m.id, m.ref);
        return;
    }
    // Reserve the id now: a duplicate sent while this one is checked is refused, and an
    // unsubscribe meanwhile cancels it.
    const quint64 serial = ++m_serial;
    m_pending.insert(m.id, serial);
    if (m.isChannel)
        subscribeChannel(m, serial, 0);
    else
        subscribeTable(m, serial, 0);
}

// What both kinds of subscribe do with the database's answer before their own part: a
// cancelled or superseded request is dropped, an identity that changed meanwhile starts
// over, "unavailable" is asked again, a refusal is answered. True: go on with it.
bool Session::settle(const ClientMessage &m, quint64 serial, int attempt, const Identity &who,
                     const Authorizer::Outcome &outcome, const std::function<void(int)> &again)
{
    if (m_closing || m_pending.value(m.id) != serial)
        return false;
    if (who.key() != m_identity.key()) {
        refuse(m, u"unauthorized"_qs, u"the identity changed while subscribing; subscribe again"_qs);
        return false;
    }
    if (outcome.kind == Authorizer::Outcome::Kind::Unavailable) {
        if (!retryLater(m, attempt, outcome.message, again))
            m_pending.remove(m.id);
        return false;
    }
    if (outcome.kind == Authorizer::Outcome::Kind::Refused) {
        refuse(m, outcome.code, outcome.message);
        return false;
    }
    return true;
}

void Session::refuse(const ClientMessage &m, const QString &code, const QString &message)
{
    m_pending.remove(m.id);
    ++m_ctx.counters->refused;
    sendError(code, message, m.id, m.ref);
}

void Session::start(const ClientMessage &m, const std::shared_ptr<Subscription> &sub)
{
    m_pending.remove(m.id);
    m_subscriptions.insert(m.id, sub);
    m_ctx.pipeline->activate(sub, m.ref);
}

void Session::subscribeTable(const ClientMessage &m, quint64 serial, int attempt)
{
    const QPointer<Session> self(this);
    const Identity who = m_identity;
    m_ctx.authorizer->resolveTable(who, m.schema, m.table, [self, m, serial, attempt, who](Authorizer::Outcome outcome,
                                                                                             std::shared_ptr<const TableInfo> info) {
        if (!self || !self->settle(m, serial, attempt, who, outcome, [self, m, serial](int n) { self->subscribeTable(m, serial, n); }))
            return;
        auto sub = Subscription::forTable(m, info, self.data());
        if (!sub)
            self->refuse(m, sub.error().code.isEmpty() ? u"invalid_filter"_qs : sub.error().code, sub.error().message);
        else
            self->start(m, *sub);
    });
}

void Session::subscribeChannel(const ClientMessage &m, quint64 serial, int attempt)
{
    const QPointer<Session> self(this);
    const Identity who = m_identity;
    m_ctx.authorizer->canListen(who, m.channel, [self, m, serial, attempt, who](Authorizer::Outcome outcome, std::optional<bool> allowed) {
        if (!self || !self->settle(m, serial, attempt, who, outcome, [self, m, serial](int n) { self->subscribeChannel(m, serial, n); }))
            return;
        // Without pg_events.authorize_channel: any connection with a token of a role
        // other than the anonymous one.
        const bool ok = allowed ? *allowed : (who.fromToken && who.role != self->m_ctx.config->anonRole);
        if (!ok)
            self->refuse(m, allowed ? u"forbidden"_qs : u"unauthorized"_qs,
                         allowed ? u"not allowed to listen on channel \"%1\""_qs.arg(m.channel)
                                 : u"channels need an authenticated connection (or a pg_events.authorize_channel rule)"_qs);
        else
            self->start(m, Subscription::forChannel(m, self.data()));
    });
}

} // namespace Realtime
