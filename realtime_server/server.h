#pragma once

#include "authorizer.h"
#include "jwtverifier.h"
#include "replaywindow.h"
#include "replicationstream.h"
#include "serverconfig.h"
#include "subscription.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTcpServer>
#include <QTimer>

#include <deque>
#include <memory>

class QTcpSocket;
class QWebSocketServer;

namespace Realtime {

class Session;

// pg_events_ws: replication stream in, WebSocket clients out, /health and /metrics on
// the same port. Every transaction passes one pipeline, in commit order: into the replay
// window, RLS checks batched per (transaction, table, identity), then fan-out.
class Server : public QObject
{
    Q_OBJECT
public:
    static Core::Result<std::unique_ptr<Server>> create(const ServerConfig &config, QObject *parent = nullptr);
    ~Server() override;

    Core::Status listen();
    quint16 port() const;
    // Tells clients and stops; `done` fires when every connection is closed.
    void shutdown();

    const ServerConfig &config() const { return m_config; }
    const Core::JwtVerifier &jwt() const { return m_jwt; }
    Authorizer &authorizer() { return *m_authorizer; }
    Core::EventCursor head() const { return m_head; }
    bool isStreaming() const;

    // Called by sessions once a subscription passed its checks.
    void activate(const std::shared_ptr<Subscription> &sub, const QString &ref);
    void remove(const std::shared_ptr<Subscription> &sub);

    struct Stats
    {
        qint64 eventsIn = 0;
        qint64 eventsOut = 0;
        qint64 transactions = 0;
        qint64 rlsQueries = 0;
        qint64 slowConsumers = 0;
        qint64 rejectedConnections = 0;
    };
    Stats &stats() { return m_stats; }

Q_SIGNALS:
    void shutdownComplete();
    void headAdvanced(const Core::EventCursor &head);

private:
    explicit Server(const ServerConfig &config, Core::JwtVerifier jwt, QObject *parent);
    struct Pending;
    struct CheckKey;

    void onTcpConnection();
    void inspectRequest(QTcpSocket *socket);
    void answerHttp(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body);
    void onWebSocket();
    void onTransaction(const Transaction &tx);
    void processNext();
    void deliver(const std::shared_ptr<Pending> &work);
    void sendReplay(const std::shared_ptr<Subscription> &sub, std::vector<WindowEntryPtr> entries);
    quint64 confirmPosition() const;
    // WAL written but not yet through our pipeline.
    qint64 lagBytes() const;
    QByteArray healthJson(bool *ok) const;
    QByteArray metricsText() const;
    bool originAllowed(const QByteArray &origin) const;
    // Builds the client frame for one event and subscription, or an empty array to skip it.
    QByteArray frameFor(const Subscription &sub, const WindowEntry &entry, const QSet<QString> *visible) const;

    ServerConfig m_config;
    Core::JwtVerifier m_jwt;
    QTcpServer m_tcp;
    QWebSocketServer *m_ws = nullptr;
    ReplicationStream *m_stream = nullptr;
    Authorizer *m_authorizer = nullptr;
    ReplayWindow m_window;
    QTimer m_trimTimer;
    QTimer m_walTimer;
    quint64 m_currentWal = 0;

    QSet<Session *> m_sessions;
    QHash<QHostAddress, int> m_perAddress;
    QHash<QString, QList<std::shared_ptr<Subscription>>> m_byTable;
    QHash<QString, QList<std::shared_ptr<Subscription>>> m_byChannel;

    std::deque<Transaction> m_queue;
    bool m_busy = false;
    quint64 m_lastTxLsn = 0;
    quint64 m_lastEndLsn = 0;
    Core::EventCursor m_head;
    bool m_shuttingDown = false;
    Stats m_stats;
};

} // namespace Realtime
