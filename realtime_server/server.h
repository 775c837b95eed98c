#pragma once

#include "authorizer.h"
#include "jwtverifier.h"
#include "pipeline.h"
#include "replicationstream.h"
#include "serverconfig.h"
#include "session.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTcpServer>
#include <QTimer>

#include <memory>

class QTcpSocket;
class QWebSocketServer;

namespace Realtime {

// pg_events_ws: accepts connections (caps counted from accept), serves /health and
// /metrics on the WebSocket's port, upgrades the rest to sessions, and wires the
// replication stream, the pipeline and the authorizer together.
class Server : public QObject
{
    Q_OBJECT
public:
    static Core::Result<std::unique_ptr<Server>> create(const ServerConfig &config, QObject *parent = nullptr);
    ~Server() override;

    Core::Status listen();
    quint16 port() const;
    // Tells clients and stops; `shutdownComplete` fires when every connection is closed.
    void shutdown();

    const ServerConfig &config() const { return m_config; }
    Core::EventCursor head() const { return m_pipeline->head(); }
    bool isStreaming() const;
    // Ready to serve: streaming, caught up, checks answered, nothing stalled.
    bool isReady(QStringList *reasons = nullptr) const;
    const Pipeline &pipeline() const { return *m_pipeline; }
    const SessionContext::Counters &counters() const { return m_counters; }
    qint64 rejectedConnections() const { return m_rejectedConnections; }
    int openSockets() const { return m_sockets; }

Q_SIGNALS:
    void shutdownComplete();

private:
    explicit Server(const ServerConfig &config, Core::JwtVerifier jwt, QObject *parent);

    void onTcpConnection();
    void inspectRequest(QTcpSocket *socket);
    void answerHttp(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body);
    void onWebSocket();
    qint64 lagBytes() const;
    QByteArray healthJson(bool *ok) const;
    QByteArray metricsText() const;
    bool originAllowed(const QByteArray &origin) const;

    ServerConfig m_config;
    Core::JwtVerifier m_jwt;
    QTcpServer m_tcp;
    QWebSocketServer *m_ws = nullptr;
    ReplicationStream *m_stream = nullptr;
    Authorizer *m_authorizer = nullptr;
    Pipeline *m_pipeline = nullptr;
    SessionContext::Counters m_counters;
    QTimer m_trimTimer;
    QTimer m_walTimer;
    quint64 m_currentWal = 0;

    QSet<Session *> m_sessions;
    // Every accepted TCP connection counts, from accept until its socket is gone: idle
    // sockets that never upgrade are capped too.
    int m_sockets = 0;
    QHash<QHostAddress, int> m_perAddress;
    QHash<QString, QPointer<QTcpSocket>> m_upgrading; // "address/port" -> socket in the handshake
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
    qint64 m_rejectedConnections = 0;
    qint64 m_streamErrors = 0;
    bool m_shuttingDown = false;
};

} // namespace Realtime
