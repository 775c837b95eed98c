#pragma once

#include "authorizer.h"
#include "subscription.h"

#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <memory>

class QWebSocket;

namespace Realtime {

class Server;

// One WebSocket client: the protocol v1 state machine (docs/PROTOCOL.md).
class Session : public QObject
{
    Q_OBJECT
public:
    Session(Server *server, QWebSocket *socket, QObject *parent = nullptr);
    ~Session() override;

    const Identity &identity() const { return m_identity; }
    bool hasIdentity() const { return !m_identity.role.isEmpty(); }
    QHostAddress peer() const { return m_peer; }
    int subscriptionCount() const { return int(m_subscriptions.size()); }

    // Sends a frame; closes the connection with slow_consumer when the client cannot keep up.
    bool sendRaw(const QByteArray &frame);
    void sendError(const QString &code, const QString &message, const QString &subId = {}, const QString &ref = {});
    void send(QJsonObject message, const QString &ref = {});
    void shutdown(const QString &code, const QString &message);
    void dropSubscription(const QString &id);

Q_SIGNALS:
    void closed(Realtime::Session *session);

private:
    void onText(const QString &text);
    void onBinary(const QByteArray &data);
    void handleAuth(const QJsonObject &msg, const QString &ref);
    void handleSubscribe(const QJsonObject &msg, const QString &ref);
    void handleUnsubscribe(const QJsonObject &msg, const QString &ref);
    void expireToken();

    Server *m_server;
    QWebSocket *m_socket;
    QHostAddress m_peer;
    Identity m_identity;
    bool m_fromToken = false;
    QTimer m_expiry;
    QHash<QString, std::shared_ptr<Subscription>> m_subscriptions;
    bool m_closing = false;
};

} // namespace Realtime
