#include "asyncconnection.h"

#include "logging.h"

#include <QSocketNotifier>

#include <libpq-fe.h>

#include <thread>

namespace Core {

void AsyncConnection::Deleter::operator()(PGconn *c) const
{
    PQfinish(c);
}

AsyncConnection::AsyncConnection(QObject *parent) : QObject(parent) {}

AsyncConnection::~AsyncConnection()
{
    // Drop notifiers before the socket they watch is closed by PQfinish.
    delete m_readNotifier;
    delete m_writeNotifier;
}

void AsyncConnection::setState(State s)
{
    if (m_state == s)
        return;
    m_state = s;
    Q_EMIT stateChanged(s);
}

void AsyncConnection::open(const QString &conninfo)
{
    close();
    const QByteArray info = conninfo.toUtf8();
    const char *keys[] = {"dbname", "application_name", "client_encoding", nullptr};
    const char *values[] = {info.constData(), m_applicationName.constData(), "UTF8", nullptr};
    m_conn.reset(PQconnectStartParams(keys, values, 1));
    if (!m_conn || PQstatus(m_conn.get()) == CONNECTION_BAD) {
        fail(m_conn ? QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed()
                    : u"out of memory"_qs);
        return;
    }
    setState(State::Connecting);
    pollConnect();
}

void AsyncConnection::close()
{
    delete m_readNotifier;
    m_readNotifier = nullptr;
    delete m_writeNotifier;
    m_writeNotifier = nullptr;
    m_socket = -1;
    m_conn.reset();
    setState(State::Disconnected);
}

void AsyncConnection::watchSocket()
{
    const int socket = PQsocket(m_conn.get());
    if (socket == m_socket && m_readNotifier)
        return;
    // libpq may switch sockets while trying several hosts; follow it.
    delete m_readNotifier;
    delete m_writeNotifier;
    m_socket = socket;
    m_readNotifier = new QSocketNotifier(socket, QSocketNotifier::Read, this);
    m_writeNotifier = new QSocketNotifier(socket, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &AsyncConnection::onReadable);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &AsyncConnection::onWritable);
}

void AsyncConnection::pollConnect()
{
    const PostgresPollingStatusType status = PQconnectPoll(m_conn.get());
    switch (status) {
    case PGRES_POLLING_FAILED:
        fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
        return;
    case PGRES_POLLING_OK:
        watchSocket();
        m_writeNotifier->setEnabled(false);
        m_readNotifier->setEnabled(true);
        PQsetnonblocking(m_conn.get(), 1);
        setState(State::Ready);
        Q_EMIT connected();
        sendNext();
        return;
    case PGRES_POLLING_READING:
        watchSocket();
        m_readNotifier->setEnabled(true);
        m_writeNotifier->setEnabled(false);
        return;
    case PGRES_POLLING_WRITING:
    default:
        watchSocket();
        m_readNotifier->setEnabled(false);
        m_writeNotifier->setEnabled(true);
        return;
    }
}

void AsyncConnection::fail(const QString &message)
{
    Error e = Error::make(Error::Kind::Connection, message,
                          u"Check that the database is running (pgext status) and the connection settings are right."_qs);
    const bool wasConnecting = m_state == State::Connecting || m_state == State::Disconnected;
    // Fail everything queued: callers must not wait forever.
    std::deque<Pending> queued;
    queued.swap(m_queue);
    std::optional<Pending> current;
    current.swap(m_current);
    PipelineReply partial = std::move(m_pipelineReply);
    m_pipelineReply = PipelineReply();
    close();
    auto failOne = [&e](Pending &p, AsyncReply *results, PipelineReply *pipelined) {
        if (p.internal)
            return;
        if (p.isPipeline) {
            PipelineReply reply = pipelined ? std::move(*pipelined) : PipelineReply();
            reply.error = e;
            p.pipelineDone(reply);
            return;
        }
        AsyncReply reply;
        if (results)
            reply.results = std::move(results->results);
        reply.error = e;
        p.done(reply);
    };
    if (current)
        failOne(*current, &m_reply, &partial);
    for (Pending &p : queued)
        failOne(p, nullptr, nullptr);
    if (wasConnecting)
        Q_EMIT connectionFailed(e);
    else
        Q_EMIT disconnected(e);
}

quint64 AsyncConnection::pipeline(std::vector<PipelineStatement> statements, PipelineCallback done)
{
    Pending p;
    p.id = m_nextId++;
    p.isPipeline = true;
    p.statements = std::move(statements);
    p.pipelineDone = std::move(done);
    const quint64 id = p.id;
    m_queue.push_back(std::move(p));
    if (m_state == State::Ready)
        sendNext();
    return id;
}

quint64 AsyncConnection::query(const QString &sql, const QStringList &params, Callback done, bool useParams)
{
    Pending p;
    p.id = m_nextId++;
    p.sql = sql;
    p.params = params;
    p.useParams = useParams;
    p.done = std::move(done);
    const quint64 id = p.id;
    m_queue.push_back(std::move(p));
    if (m_state == State::Ready)
        sendNext();
    return id;
}

void AsyncConnection::sendNext()
{
    if (m_current || m_queue.empty() || m_state != State::Ready)
        return;
    m_current = std::move(m_queue.front());
    m_queue.pop_front();
    m_reply = AsyncReply();
    m_cancelRequested = false;
    if (m_current->isPipeline) {
        m_timer.start();
        setState(State::Busy);
        m_pipelineReply = PipelineReply();
        m_pipelineReply.statements.resize(m_current->statements.size());
        m_pipelineIndex = 0;
        m_syncsPending = 0;
        bool ok = PQenterPipelineMode(m_conn.get()) == 1;
        for (size_t i = 0; ok && i < m_current->statements.size(); ++i) {
            const PipelineStatement &st = m_current->statements[i];
            const QByteArray sql = st.sql.toUtf8();
            std::vector<QByteArray> storage;
            std::vector<const char *> values;
            storage.reserve(size_t(st.params.size()));
            for (const QString &param : st.params) {
                storage.push_back(param.toUtf8());
                values.push_back(param.isNull() ? nullptr : storage.back().constData());
            }
            ok = PQsendQueryParams(m_conn.get(), sql.constData(), int(values.size()), nullptr, values.data(), nullptr,
                                   nullptr, 0) == 1;
            const bool last = i + 1 == m_current->statements.size();
            if (ok && (st.sync || last)) {
                ok = PQpipelineSync(m_conn.get()) == 1;
                ++m_syncsPending;
            }
        }
        if (m_current->statements.empty()) {
            PQexitPipelineMode(m_conn.get());
            finishPipeline();
            return;
        }
        if (!ok) {
            fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
            return;
        }
        onWritable();
        return;
    }
    const QByteArray text = m_current->sql.toUtf8();
    int sent;
    if (m_current->useParams) {
        std::vector<QByteArray> storage;
        std::vector<const char *> values;
        storage.reserve(m_current->params.size());
        for (const QString &p : m_current->params) {
            storage.push_back(p.toUtf8());
            values.push_back(p.isNull() ? nullptr : storage.back().constData());
        }
        sent = PQsendQueryParams(m_conn.get(), text.constData(), int(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    } else {
        sent = PQsendQuery(m_conn.get(), text.constData());
    }
    m_timer.start();
    setState(State::Busy);
    if (!sent) {
        m_reply.error = Error::make(Error::Kind::Connection,
                                    QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
        finishCurrent();
        return;
    }
    onWritable();
}

void AsyncConnection::onWritable()
{
    if (m_state == State::Connecting) {
        pollConnect();
        return;
    }
    const int rc = PQflush(m_conn.get());
    if (rc < 0) {
        fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
        return;
    }
    m_writeNotifier->setEnabled(rc == 1);
}

void AsyncConnection::onReadable()
{
    if (m_state == State::Connecting) {
        pollConnect();
        return;
    }
    if (!PQconsumeInput(m_conn.get())) {
        fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
        return;
    }
    while (PGnotify *n = PQnotifies(m_conn.get())) {
        Q_EMIT notification(QString::fromUtf8(n->relname), QString::fromUtf8(n->extra));
        PQfreemem(n);
    }
    if (!m_current)
        return;
    if (m_current->isPipeline) {
        readPipeline();
        return;
    }
    while (!PQisBusy(m_conn.get())) {
        PGresult *raw = PQgetResult(m_conn.get());
        if (!raw) {
            finishCurrent();
            return;
        }
        const ExecStatusType st = PQresultStatus(raw);
        if (st == PGRES_FATAL_ERROR) {
            if (!m_reply.error) {
                m_reply.error = PgResult::toError(raw);
                if (m_cancelRequested && m_reply.error->sqlState == u"57014"_qs)
                    m_reply.cancelled = true;
            }
            PQclear(raw);
        } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
            if (st == PGRES_COPY_IN)
                PQputCopyEnd(m_conn.get(), "COPY FROM STDIN is not supported here");
            m_reply.error = Error::validation(u"COPY ... FROM STDIN / TO STDOUT is not supported here"_qs);
            PQclear(raw);
        } else {
            m_reply.results.emplace_back(raw);
        }
    }
}

void AsyncConnection::readPipeline()
{
    // Results arrive per statement, each closed by a null result; a sync point by a
    // PGRES_PIPELINE_SYNC result. PQgetResult would block while busy: ask first.
    while (m_conn && !PQisBusy(m_conn.get())) {
        PGresult *raw = PQgetResult(m_conn.get());
        if (!raw) {
            ++m_pipelineIndex; // the statement's results are complete
            continue;
        }
        const ExecStatusType st = PQresultStatus(raw);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(raw);
            if (--m_syncsPending == 0) {
                PQexitPipelineMode(m_conn.get());
                finishPipeline();
                return;
            }
            continue;
        }
        if (m_pipelineIndex >= m_pipelineReply.statements.size()) {
            PQclear(raw); // cannot happen: more results than statements
            continue;
        }
        PipelineReply::Statement &out = m_pipelineReply.statements[m_pipelineIndex];
        if (st == PGRES_PIPELINE_ABORTED) {
            out.aborted = true;
            PQclear(raw);
        } else if (st == PGRES_FATAL_ERROR) {
            if (!out.error)
                out.error = PgResult::toError(raw);
            PQclear(raw);
        } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            out.error = Error::validation(u"COPY is not supported in a pipeline"_qs);
            PQclear(raw);
        } else {
            out.result.emplace(raw);
        }
    }
}

void AsyncConnection::finishPipeline()
{
    m_pipelineReply.elapsedMs = m_timer.elapsed();
    Pending done = std::move(*m_current);
    m_current.reset();
    if (m_state == State::Busy)
        setState(State::Ready);
    PipelineReply reply = std::move(m_pipelineReply);
    m_pipelineReply = PipelineReply();
    done.pipelineDone(reply);
    sendNext();
}

void AsyncConnection::finishCurrent()
{
    if (!m_current)
        return;
    m_reply.elapsedMs = m_timer.elapsed();
    Pending done = std::move(*m_current);
    m_current.reset();
    if (m_state == State::Busy)
        setState(State::Ready);
    AsyncReply reply = std::move(m_reply);
    m_reply = AsyncReply();
    // A failed statement between BEGIN and COMMIT of one query string leaves the session
    // in an aborted transaction, and every later query on it would fail: end it first.
    if (m_rollbackLeftovers && m_conn && PQtransactionStatus(m_conn.get()) != PQTRANS_IDLE) {
        Pending rollback;
        rollback.id = m_nextId++;
        rollback.sql = u"ROLLBACK"_qs;
        rollback.internal = true;
        rollback.done = [](AsyncReply &) {};
        m_queue.push_front(std::move(rollback));
    }
    if (!done.internal)
        done.done(reply);
    sendNext();
}

void AsyncConnection::cancel()
{
    if (!m_current || !m_conn)
        return;
    m_cancelRequested = true;
    PGcancel *handle = PQgetCancel(m_conn.get());
    if (!handle)
        return;
    // PQcancel opens a second connection and waits for it: keep that off this thread.
    std::thread([handle] {
        char err[256];
        PQcancel(handle, err, sizeof err);
        PQfreeCancel(handle);
    }).detach();
}

} // namespace Core
