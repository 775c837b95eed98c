#pragma once

#include "authorizer.h"
#include "clientmessage.h"
#include "identity.h"
#include "subscription.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <memory>

class QTcpSocket;
class QWebSocket;

namespace Core {
class JwtVerifier;
}

namespace Realtime {

class Authorizer;
class Pipeline;
struct ServerConfig;

// What a session works with; the server owns all of it and outlives its sessions.
struct SessionContext
{
    const ServerConfig *config = nullptr;
    const Core::JwtVerifier *jwt = nullptr;
    Authorizer *authorizer = nullptr;
    Pipeline *pipeline = nullptr;
    struct Counters
    {
        qint64 slowConsumers = 0;
        qint64 rateLimited = 0;
        qint64 refused = 0;          // auth and subscribe requests refused
        qint64 unavailable = 0;      // answered "unavailable" (PostgreSQL away)
    } *counters = nullptr;
};

// One WebSocket client: the protocol v1 state machine (docs/PROTOCOL.md). Messages are
// handled in the order they arrive; while a token is being checked with PostgreSQL the
// ones after it wait, so a subscribe after auth always runs as the new identity.
class Session : public QObject, public SubscriberSink
{
    Q_OBJECT
public:
    // `tcp` is the connection `socket` was upgraded from: QWebSocket does not own it.
    Session(SessionContext context, QWebSocket *socket, QTcpSocket *tcp, const Core::EventCursor &head, QObject *parent = nullptr);
    ~Session() override;

    QHostAddress peer() const { return m_peer; }
    int subscriptionCount() const { return int(m_subscriptions.size()); }

    // SubscriberSink
    const Identity &identity() const override { return m_identity; }
    bool sendFrame(const QByteArray &frame) override;
    void endSubscription(const QString &id, const QString &code, const QString &message, const QString &ref = {}) override;

    void sendError(const QString &code, const QString &message, const QString &subId = {}, const QString &ref = {});
    void send(QJsonObject message, const QString &ref = {});
    // Tells the client why, then closes.
    void shutdown(const QString &code, const QString &message);
    // How long until the expiry timer looks again: 0 when the token (exp + skew) has
    // expired, at most a day otherwise (QTimer's int milliseconds end at 24.8 days).
    static qint64 expiryStepMs(qint64 expSeconds, qint64 nowSeconds, int skewSeconds);

Q_SIGNALS:
    void closed(Realtime::Session *session);

private:
    void onText(const QString &text);
    void process();
    void handle(const ClientMessage &m);
    void handleAuth(const ClientMessage &m);
    void handleSubscribe(const ClientMessage &m);
    void subscribeTable(const ClientMessage &m, quint64 serial, int attempt);
    void subscribeChannel(const ClientMessage &m, quint64 serial, int attempt);
    // PostgreSQL could not answer: ask again with backoff for a while, then `unavailable`.
    bool retryLater(const ClientMessage &m, int attempt, const QString &why, const std::function<void(int)> &again);
    bool settle(const ClientMessage &m, quint64 serial, int attempt, const Identity &who, const Authorizer::Outcome &outcome,
                const std::function<void(int)> &again);
    void refuse(const ClientMessage &m, const QString &code, const QString &message);
    void start(const ClientMessage &m, const std::shared_ptr<Subscription> &sub);
    void dropSubscription(const QString &id);
    void expireToken();
    void scheduleExpiry();
    bool takeReplayToken();

    SessionContext m_ctx;
    QWebSocket *m_socket;
    QPointer<QTcpSocket> m_tcp;
    QHostAddress m_peer;
    Identity m_identity;
    std::optional<qint64> m_tokenExp;
    QTimer m_expiry;
    QHash<QString, std::shared_ptr<Subscription>> m_subscriptions;
    QHash<QString, quint64> m_pending;  // subscriptions being checked, by id
    quint64 m_serial = 0;
    std::deque<QByteArray> m_inbox;
    bool m_waitingForAuth = false;
    bool m_closing = false;
    double m_replayTokens = 0;
    QElapsedTimer m_replayClock;
};

} // namespace Realtime
