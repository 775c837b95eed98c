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

// One statement of a pipeline: extended protocol, parameters as text.
struct PipelineStatement
{
    QString sql;
    QStringList params;
    // Ends an implicit transaction here: a failure before it aborts only the statements
    // of its own segment, and settings made with set_config(..., true) end with it.
    bool sync = false;
};

// What each statement of a pipeline gave: a result, an error, or nothing because an
// earlier statement of its segment failed (aborted).
struct PipelineReply
{
    struct Statement
    {
        std::optional<PgResult> result;
        std::optional<Error> error;
        bool aborted = false;
    };
    std::vector<Statement> statements;
    std::optional<Error> error; // the connection failed: no statement is known to have run
    qint64 elapsedMs = 0;
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
    using PipelineCallback = std::function<void(PipelineReply &)>;

    explicit AsyncConnection(QObject *parent = nullptr);
    ~AsyncConnection() override;

    void open(const QString &conninfo);
    // Shown in pg_stat_activity (default "pgext"); takes effect at the next open().
    void setApplicationName(const QString &name) { m_applicationName = name.toUtf8(); }
    void close();
    State state() const { return m_state; }

    // Queues a query. Without params the simple protocol is used, so several
    // statements may be sent at once. The callback runs on this object's thread.
    quint64 query(const QString &sql, Callback done) { return query(sql, {}, std::move(done), false); }
    quint64 query(const QString &sql, const QStringList &params, Callback done, bool useParams = true);
    // Sends every statement at once (libpq pipeline mode, one round trip); a segment ends
    // at each statement marked sync, and after the last one. Each segment is its own
    // implicit transaction: nothing is left open or aborted afterwards.
    quint64 pipeline(std::vector<PipelineStatement> statements, PipelineCallback done);
    // Asks the server to cancel the running query; its callback reports cancelled=true.
    void cancel();
    // For connections that must never carry a transaction from one query to the next
    // (the realtime server's checks): a query that leaves one open or aborted - a
    // multi-statement string that failed between BEGIN and COMMIT - is followed by a
    // ROLLBACK before anything else is sent. Off by default: the SQL editor keeps the
    // transactions its user opens.
    void setRollbackLeftovers(bool on) { m_rollbackLeftovers = on; }
    // Idle or merely busy: queries sent now are answered.
    bool isUsable() const { return m_state == State::Ready || m_state == State::Busy; }
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
        // A pipeline instead of one query.
        std::vector<PipelineStatement> statements;
        PipelineCallback pipelineDone;
        bool isPipeline = false;
        bool internal = false; // our own ROLLBACK
    };

    void setState(State s);
    void pollConnect();
    void watchSocket();
    void onReadable();
    void onWritable();
    void sendNext();
    void finishCurrent();
    void readPipeline();
    void finishPipeline();
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
    bool m_rollbackLeftovers = false;
    QByteArray m_applicationName = "pgext";
    // Pipeline progress: the statement whose results arrive next, syncs still expected.
    PipelineReply m_pipelineReply;
    size_t m_pipelineIndex = 0;
    int m_syncsPending = 0;
};

} // namespace Core
