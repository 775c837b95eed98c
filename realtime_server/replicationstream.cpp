#include "replicationstream.h"

#include "logging.h"
#include "pgconnection.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QPointer>
#include <QSocketNotifier>
#include <QtEndian>

#include <libpq-fe.h>

#include <thread>

Q_LOGGING_CATEGORY(lcReplication, "pgext.realtime.replication", QtInfoMsg)

namespace Realtime {

using Core::Error;

// PostgreSQL's epoch for replication timestamps: 2000-01-01 00:00:00 UTC.
static constexpr qint64 PostgresEpochOffsetUs = 946684800LL * 1000000LL;

void ReplicationStream::Deleter::operator()(PGconn *c) const
{
    PQfinish(c);
}

ReplicationStream::ReplicationStream(QString conninfo, QString slot, int chunkEvents, QObject *parent)
    : QObject(parent), m_conninfo(std::move(conninfo)), m_slot(std::move(slot)), m_chunkEvents(std::max(1, chunkEvents))
{
    m_statusTimer.setInterval(5000);
    connect(&m_statusTimer, &QTimer::timeout, this, &ReplicationStream::sendStatusNow);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &ReplicationStream::connectNow);
}

ReplicationStream::~ReplicationStream()
{
    stop();
}

void ReplicationStream::setState(State s)
{
    if (m_state == s)
        return;
    m_state = s;
    Q_EMIT stateChanged(s);
}

void ReplicationStream::start()
{
    m_stopped = false;
    connectNow();
}

void ReplicationStream::stop()
{
    m_stopped = true;
    ++m_attempt; // an in-flight connect is discarded when it comes back
    m_setupInFlight = false;
    m_reconnectTimer.stop();
    m_statusTimer.stop();
    if (m_conn && m_state == State::Streaming)
        sendStatusNow(); // leave the slot where it safely is
    delete m_notifier;
    m_notifier = nullptr;
    m_conn.reset();
    m_current.reset();
    setState(State::Disconnected);
}

void ReplicationStream::scheduleReconnect()
{
    if (m_stopped)
        return;
    qCInfo(lcReplication) << "reconnecting in" << m_backoffMs << "ms";
    m_reconnectTimer.start(m_backoffMs);
    m_backoffMs = qMin(m_backoffMs * 2, 10000);
}

void ReplicationStream::fail(const QString &message)
{
    qCWarning(lcReplication).noquote() << message;
    Error e = Error::make(Error::Kind::Connection, message);
    e.code = u"replication"_qs;
    delete m_notifier;
    m_notifier = nullptr;
    m_conn.reset();
    m_current.reset(); // a partial transaction is resent after reconnecting
    m_statusTimer.stop();
    setState(State::Disconnected);
    Q_EMIT problem(e);
    scheduleReconnect();
}

namespace {
// What the setup thread hands back to the event loop.
struct SetupOutcome
{
    PGconn *conn = nullptr;   // streaming (COPY BOTH) on success
    quint64 startLsn = 0;
    quint64 walAtStart = 0;   // everything committed before this is the slot's backlog
    bool slotRecreated = false;
    QString error;
};
}

// Slot creation and START_REPLICATION are blocking libpq round trips (and a connect can
// hang as long as connect_timeout): they run on a short-lived thread so the event loop —
// and every connected client — never waits for PostgreSQL.
static SetupOutcome setupStream(const QString &conninfo, const QString &slot)
{
    SetupOutcome out;
    {
        auto sql = Core::PgConnection::open(conninfo, 5);
        if (!sql) {
            out.error = sql.error().message;
            return out;
        }
        auto exists = sql->exec(u"SELECT confirmed_flush_lsn::text, wal_status FROM pg_replication_slots WHERE slot_name = $1"_qs, {slot});
        if (!exists) {
            out.error = exists.error().message;
            return out;
        }
        bool create = exists->rows() == 0;
        if (!create && exists->value(0, 1) == u"lost"_qs) {
            // WAL this slot needed is gone: nothing before now can be replayed.
            qCWarning(lcReplication) << "slot" << slot << "lost its WAL; recreating it";
            (void)sql->exec(u"SELECT pg_drop_replication_slot($1)"_qs, {slot});
            create = true;
            out.slotRecreated = true;
        }
        if (create) {
            auto created = sql->exec(u"SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pg_events')"_qs, {slot});
            if (!created) {
                out.error = u"cannot create replication slot \"%1\": %2"_qs.arg(slot, created.error().message);
                return out;
            }
            out.startLsn = Core::Lsn::parse(created->value(0, 0)).value_or(0);
        } else {
            out.startLsn = Core::Lsn::parse(exists->value(0, 0)).value_or(0);
        }
        auto wal = sql->exec(u"SELECT pg_current_wal_lsn()::text"_qs);
        if (!wal) {
            out.error = wal.error().message;
            return out;
        }
        out.walAtStart = Core::Lsn::parse(wal->value(0, 0)).value_or(0);
    }
    const QByteArray info = (conninfo + u" replication=database connect_timeout=5"_qs).toUtf8();
    PGconn *conn = PQconnectdb(info.constData());
    if (PQstatus(conn) != CONNECTION_OK) {
        out.error = QString::fromUtf8(PQerrorMessage(conn)).trimmed();
        PQfinish(conn);
        return out;
    }
    const QByteArray command = "START_REPLICATION SLOT " + Core::PgConnection::quoteIdentifier(slot).toUtf8() + " LOGICAL 0/0";
    PGresult *r = PQexec(conn, command.constData());
    const ExecStatusType st = PQresultStatus(r);
    const QString err = QString::fromUtf8(PQresultErrorMessage(r)).trimmed();
    PQclear(r);
    if (st != PGRES_COPY_BOTH) {
        out.error = u"START_REPLICATION failed: "_qs + err;
        PQfinish(conn);
        return out;
    }
    out.conn = conn;
    return out;
}

void ReplicationStream::connectNow()
{
    if (m_stopped || m_setupInFlight)
        return;
    setState(State::Connecting);
    m_setupInFlight = true;
    const quint64 attempt = ++m_attempt;
    const QPointer<ReplicationStream> self(this);
    std::thread([self, attempt, conninfo = m_conninfo, slot = m_slot] {
        SetupOutcome outcome = setupStream(conninfo, slot);
        // Back to the event loop; the stream may be gone or stopped by then.
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, attempt, outcome] {
            if (!self || self->m_attempt != attempt || self->m_stopped) {
                if (outcome.conn)
                    PQfinish(outcome.conn);
                if (self && self->m_attempt == attempt)
                    self->m_setupInFlight = false;
                return;
            }
            self->m_setupInFlight = false;
            self->finishConnect(outcome.conn, outcome.startLsn, outcome.walAtStart, outcome.slotRecreated, outcome.error);
        }, Qt::QueuedConnection);
    }).detach();
}

void ReplicationStream::finishConnect(PGconn *conn, quint64 startLsn, quint64 walAtStart, bool slotRecreated, const QString &error)
{
    if (!conn) {
        fail(error);
        return;
    }
    m_conn.reset(conn);
    m_slotStartLsn = startLsn;
    m_walAtStart = walAtStart;
    m_caughtUp = false;
    if (slotRecreated)
        Q_EMIT slotReset(startLsn);
    PQsetnonblocking(m_conn.get(), 1);
    m_notifier = new QSocketNotifier(PQsocket(m_conn.get()), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &ReplicationStream::onReadable);
    m_backoffMs = 250;
    setState(State::Streaming);
    m_statusTimer.start();
    qCInfo(lcReplication) << "streaming from slot" << m_slot << "at" << Core::Lsn::format(m_slotStartLsn);
    if (m_slotStartLsn >= m_walAtStart) {
        m_caughtUp = true; // nothing retained to resend
        Q_EMIT caughtUp();
    }
    m_notifier->setEnabled(!m_paused);
    if (!m_paused)
        onReadable(); // data may already be buffered
}

void ReplicationStream::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    qCInfo(lcReplication) << (paused ? "pausing the replication stream (the pipeline is full)" : "resuming the replication stream");
    if (m_notifier)
        m_notifier->setEnabled(!paused && !m_decodeFailed);
    if (!paused && m_conn && !m_decodeFailed)
        QMetaObject::invokeMethod(this, &ReplicationStream::onReadable, Qt::QueuedConnection); // libpq may hold data already
}

void ReplicationStream::onReadable()
{
    if (!m_conn)
        return;
    if (!PQconsumeInput(m_conn.get())) {
        fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
        return;
    }
    while (m_conn && !m_paused && !m_decodeFailed) {
        char *buffer = nullptr;
        const int len = PQgetCopyData(m_conn.get(), &buffer, 1);
        if (len == 0)
            return; // wait for more
        if (len == -1) {
            PGresult *r = PQgetResult(m_conn.get());
            const QString err = r ? QString::fromUtf8(PQresultErrorMessage(r)).trimmed() : QString();
            PQclear(r);
            fail(u"replication stream ended: "_qs + (err.isEmpty() ? u"server closed the stream"_qs : err));
            return;
        }
        if (len == -2) {
            fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
            return;
        }
        handleCopyData(buffer, len);
        PQfreemem(buffer);
    }
}

void ReplicationStream::handleCopyData(const char *data, int len)
{
    if (len < 1)
        return;
    if (data[0] == 'k' && len >= 18) {
        // Primary keepalive: walEnd(8) time(8) replyRequested(1). For a logical walsender
        // walEnd is how far decoding has got: past the WAL end at connect time, the
        // slot's backlog has all been sent.
        m_serverWalEnd = qFromBigEndian<quint64>(data + 1);
        if (!m_caughtUp && !m_current && m_serverWalEnd >= m_walAtStart) {
            m_caughtUp = true;
            Q_EMIT caughtUp();
        }
        if (data[17])
            sendStatus(true);
        return;
    }
    if (data[0] == 'w' && len >= 25) {
        // XLogData: start(8) end(8) time(8) then the plugin's document
        const quint64 walEnd = qFromBigEndian<quint64>(data + 9);
        if (walEnd > m_serverWalEnd)
            m_serverWalEnd = walEnd;
        handleDocument(QByteArrayView(data + 25, len - 25));
    }
}

void ReplicationStream::handleDocument(QByteArrayView document)
{
    auto event = Core::PgEventDecoder::decode(document);
    if (!event) {
        // A document we cannot read would become a silent gap: stop reading here, for
        // good (a reconnect would resend the same document), and say so.
        qCCritical(lcReplication).noquote() << event.error().message
                                            << QString::fromUtf8(document.first(qMin<qsizetype>(200, document.size())).toByteArray());
        m_decodeFailed = true;
        if (m_notifier)
            m_notifier->setEnabled(false);
        const quint64 txLsn = m_current ? m_current->lsn : m_serverWalEnd;
        m_current.reset();
        Q_EMIT decodeFailed(event.error(), txLsn);
        return;
    }
    switch (event->op) {
    case Core::PgEvent::Op::Begin:
        // A commit at or after the WAL end at connect time is live, not backlog.
        if (!m_caughtUp && event->lsn >= m_walAtStart) {
            m_caughtUp = true;
            Q_EMIT caughtUp();
        }
        m_current = TransactionChunk();
        m_current->xid = event->xid;
        m_current->lsn = event->lsn;
        m_current->endLsn = event->endLsn;
        m_current->commitTime = event->commitTime;
        return;
    case Core::PgEvent::Op::Commit:
        if (m_current)
            flushChunk(true);
        return;
    default:
        if (!m_current)
            return; // stream joined mid-transaction (cannot happen with a slot); skip
        m_current->bytes += document.size();
        m_current->events.push_back(std::move(event).value());
        // pg_events decodes committed transactions only: a full chunk can go on now.
        if (int(m_current->events.size()) >= m_chunkEvents)
            flushChunk(false);
        return;
    }
}

void ReplicationStream::flushChunk(bool last)
{
    TransactionChunk chunk = std::move(*m_current);
    chunk.last = last;
    if (last) {
        m_current.reset();
    } else {
        m_current = TransactionChunk();
        m_current->xid = chunk.xid;
        m_current->lsn = chunk.lsn;
        m_current->endLsn = chunk.endLsn;
        m_current->commitTime = chunk.commitTime;
        m_current->first = false;
    }
    Q_EMIT chunkReceived(std::move(chunk));
}

void ReplicationStream::sendStatusNow()
{
    sendStatus(false);
}

// Periodic updates report write = what we received and flush = what PostgreSQL may
// forget (held back for the replay window). A reply to a ping reports flush as invalid:
// it moves nothing (the slot advances only on a valid flush), but a walsender that is
// shutting down compares `write` with what it sent and can exit, instead of waiting
// wal_sender_timeout for a flush position we deliberately keep behind.
void ReplicationStream::sendStatus(bool pingReply)
{
    if (!m_conn || m_state != State::Streaming)
        return;
    quint64 flush = m_confirmProvider ? m_confirmProvider() : 0;
    // Part of a transaction still being read: never past its commit.
    if (m_current && m_current->lsn < flush)
        flush = m_current->lsn;
    if (flush < m_lastConfirmed)
        flush = m_lastConfirmed; // never move backwards
    const quint64 written = std::max(m_serverWalEnd, flush);
    char msg[34];
    msg[0] = 'r';
    qToBigEndian<quint64>(written, msg + 1);            // written (received)
    qToBigEndian<quint64>(pingReply ? 0 : flush, msg + 9);  // flushed
    qToBigEndian<quint64>(pingReply ? 0 : flush, msg + 17); // applied
    const qint64 now = QDateTime::currentMSecsSinceEpoch() * 1000 - PostgresEpochOffsetUs;
    qToBigEndian<qint64>(now, msg + 25);
    msg[33] = 0;
    if (PQputCopyData(m_conn.get(), msg, sizeof msg) <= 0 || PQflush(m_conn.get()) < 0) {
        fail(QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
        return;
    }
    if (!pingReply)
        m_lastConfirmed = flush;
}

} // namespace Realtime
