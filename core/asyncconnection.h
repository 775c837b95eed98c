#pragma once

#include "error.h"
#include "pgresult.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

struct pg_conn;
typedef struct pg_conn PGconn;
class QSocketNotifier;

namespace Core {

// What a finished asynchronous query hands back: every result of a multi-statement
// batch up to the first error, the error if any, and the time the server took.
struct AsyncReply
{
    std::vector<PgResult> results;
    std::optional<Error> error;
    qint64 elapsedMs = 0;
    bool cancelled = false;
};

// A non-blocking libpq connection driven by QSocketNotifier, for the studio and the
// realtime server: nothing here ever waits on the socket, so a UI thread stays live.
class AsyncConnection : public QObject
{
    Q_OBJECT
public:
    enum class State { Disconnected, Connecting, Ready, Busy };
    Q_ENUM(State)
    using Callback = std::function<void(AsyncReply &)>;

    explicit AsyncConnection(QObject *parent = nullptr);
    ~AsyncConnection() override;

    void open(const QString &conninfo);
    void close();
    State state() const { return m_state; }

    // Queues a query. Without params the simple protocol is used, so several
    // statements may be sent at once. The callback runs on this object's thread.
    quint64 query(const QString &sql, Callback done) { return query(sql, {}, std::move(done), false); }
    quint64 query(const QString &sql, const QStringList &params, Callback done, bool useParams = true);
    // Asks the server to cancel the running query; its callback reports cancelled=true.
    void cancel();
    int pendingQueries() const { return int(m_queue.size()) + (m_current ? 1 : 0); }

Q_SIGNALS:
    void connected();
    void connectionFailed(const Core::Error &error);
    void disconnected(const Core::Error &error);
    void notification(const QString &channel, const QString &payload);
    void stateChanged(Core::AsyncConnection::State state);

private:
    struct Pending {
        quint64 id = 0;
        QString sql;
        QStringList params;
        bool useParams = false;
        Callback done;
    };

    void setState(State s);
    void pollConnect();
    void watchSocket();
    void onReadable();
    void onWritable();
    void sendNext();
    void finishCurrent();
    void fail(const QString &message);

    struct Deleter { void operator()(PGconn *c) const; };
    std::unique_ptr<PGconn, Deleter> m_conn;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    int m_socket = -1;
    State m_state = State::Disconnected;
    std::deque<Pending> m_queue;
    std::optional<Pending> m_current;
    AsyncReply m_reply;
    QElapsedTimer m_timer;
    quint64 m_nextId = 1;
    bool m_cancelRequested = false;
};

} // namespace Core
