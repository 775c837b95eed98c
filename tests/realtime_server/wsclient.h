#pragma once

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <functional>

// A real WebSocket client for tests: records every message, waits for the ones it needs.
class WsClient : public QObject
{
    Q_OBJECT
public:
    explicit WsClient(QObject *parent = nullptr) : QObject(parent)
    {
        connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            m_messages << QJsonDocument::fromJson(text.toUtf8()).object();
        });
    }

    bool open(const QUrl &url, const QString &origin = {})
    {
        QNetworkRequest req(url);
        if (!origin.isEmpty())
            req.setRawHeader("Origin", origin.toUtf8());
        m_socket.open(req);
        return waitFor([](const QJsonObject &m) { return m.value(u"type"_qs) == u"welcome"_qs; }, 5000).has_value();
    }
    void send(const QJsonObject &message) { m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact))); }
    void sendRaw(const QString &text) { m_socket.sendTextMessage(text); }
    QWebSocket &socket() { return m_socket; }

    // The first message (from `from` on) that matches; waits up to `ms`.
    std::optional<QJsonObject> waitFor(const std::function<bool(const QJsonObject &)> &match, int ms = 5000)
    {
        QElapsedTimer t;
        t.start();
        while (true) {
            for (qsizetype i = m_consumed; i < m_messages.size(); ++i)
                if (match(m_messages[i]))
                    return m_messages[i];
            if (t.elapsed() > ms || m_socket.state() == QAbstractSocket::UnconnectedState)
                return std::nullopt;
            QTest::qWait(5);
        }
    }
    std::optional<QJsonObject> waitType(const QString &type, int ms = 5000)
    {
        return waitFor([type](const QJsonObject &m) { return m.value(u"type"_qs) == type; }, ms);
    }
    std::optional<QJsonObject> request(const QJsonObject &message, const QString &replyType, int ms = 5000)
    {
        QJsonObject withRef = message;
        const QString ref = u"r%1"_qs.arg(++m_ref);
        withRef.insert(u"ref"_qs, ref);
        send(withRef);
        return waitFor([ref, replyType](const QJsonObject &m) {
            return m.value(u"ref"_qs) == ref && (m.value(u"type"_qs) == replyType || m.value(u"type"_qs) == u"error"_qs);
        }, ms);
    }
    bool auth(const QString &token)
    {
        auto r = request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, token}}, u"auth_ok"_qs);
        return r && r->value(u"type"_qs) == u"auth_ok"_qs;
    }
    std::optional<QJsonObject> subscribe(QJsonObject message)
    {
        message.insert(u"type"_qs, u"subscribe"_qs);
        return request(message, u"subscribed"_qs);
    }
    QList<QJsonObject> messagesOfType(const QString &type, const QString &sub = {}) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &m : m_messages)
            if (m.value(u"type"_qs) == type && (sub.isEmpty() || m.value(u"sub"_qs) == sub))
                out << m;
        return out;
    }
    void clear() { m_messages.clear(); m_consumed = 0; }
    const QList<QJsonObject> &messages() const { return m_messages; }

private:
    QWebSocket m_socket;
    QList<QJsonObject> m_messages;
    qsizetype m_consumed = 0;
    int m_ref = 0;
};
