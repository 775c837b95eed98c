#pragma once

#include "error.h"
#include "pgevent.h"
#include "transaction.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

struct pg_conn;
typedef struct pg_conn PGconn;
class QSocketNotifier;

namespace Realtime {

// Reads pg_events from a logical slot over the streaming replication protocol, inside the
// Qt event loop (QSocketNotifier; never blocks). Hands transactions on in chunks of at
// most `chunkEvents` events, so no transaction is ever held whole; stops reading while
// paused (backpressure) and at a document it cannot decode (never skips one). Sends
// standby status updates with the position the owner says is safe, answers keepalives,
// and reconnects with backoff.
class ReplicationStream : public QObject
{
    Q_OBJECT
public:
    enum class State { Disconnected, Connecting, Streaming };
    Q_ENUM(State)

    ReplicationStream(QString conninfo, QString slot, int chunkEvents = 1000, QObject *parent = nullptr);
    ~ReplicationStream() override;

    void start();
    void stop();
    State state() const { return m_state; }
    const QString &slot() const { return m_slot; }

    // The owner decides how far PostgreSQL may forget: called before each status update.
    void setConfirmProvider(std::function<quint64()> provider) { m_confirmProvider = std::move(provider); }
    // The end of WAL the server reported in its latest keepalive (what may be confirmed
    // when nothing is pending).
    quint64 serverWalEnd() const { return m_serverWalEnd; }
    quint64 lastConfirmed() const { return m_lastConfirmed; }
    quint64 slotStartLsn() const { return m_slotStartLsn; }
    void sendStatusNow();
    // Backpressure: stop (and go on) reading; status updates continue meanwhile.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    // A document could not be decoded: reading stopped there.
    bool isStopped() const { return m_decodeFailed; }

Q_SIGNALS:
    void chunkReceived(Realtime::TransactionChunk chunk);
    void stateChanged(Realtime::ReplicationStream::State state);
    // The connection failed (a reconnect follows).
    void problem(const Core::Error &error);
    // Everything committed before this connection started has been received: what the
    // slot had retained is in, the rest is live.
    void caughtUp();
    // A document of the transaction at `txLsn` cannot be decoded: nothing after it is read.
    void decodeFailed(const Core::Error &error, quint64 txLsn);
    // The slot lost WAL (max_slot_wal_keep_size) and was recreated: history before
    // `newStartLsn` cannot be replayed.
    void slotReset(quint64 newStartLsn);

private:
    void connectNow();
    void setState(State s);
    void onReadable();
    void handleCopyData(const char *data, int len);
    void handleDocument(QByteArrayView document);
    void fail(const QString &message);
    void scheduleReconnect();
    void sendStatus(bool pingReply);
    void finishConnect(PGconn *conn, quint64 startLsn, quint64 walAtStart, bool slotRecreated, const QString &error);
    void flushChunk(bool last);

    struct Deleter { void operator()(PGconn *c) const; };
    QString m_conninfo;
    QString m_slot;
    std::unique_ptr<PGconn, Deleter> m_conn;
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_statusTimer;
    QTimer m_reconnectTimer;
    int m_backoffMs = 250;
    State m_state = State::Disconnected;
    bool m_stopped = true;
    std::function<quint64()> m_confirmProvider;
    quint64 m_serverWalEnd = 0;
    quint64 m_lastConfirmed = 0;
    quint64 m_slotStartLsn = 0;
    std::optional<TransactionChunk> m_current;
    int m_chunkEvents = 1000;
    quint64 m_attempt = 0;
    bool m_setupInFlight = false;
    bool m_paused = false;
    bool m_decodeFailed = false;
    quint64 m_walAtStart = 0;     // pg_current_wal_lsn() when this connection started
    bool m_caughtUp = false;
};

} // namespace Realtime
