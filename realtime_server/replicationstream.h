#pragma once

#include "error.h"
#include "pgevent.h"

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

// One committed transaction as pg_events sent it.
struct Transaction
{
    quint64 xid = 0;
    quint64 lsn = 0;      // commit LSN (start of the commit record): part of every cursor
    quint64 endLsn = 0;   // end of the commit record
    QString commitTime;
    std::vector<Core::PgEvent> events; // changes and messages, in sequence order
    qint64 bytes = 0;
};

// Reads pg_events from a logical slot over the streaming replication protocol, inside the
// Qt event loop (QSocketNotifier; never blocks). Sends standby status updates with the
// position the owner says is safe, answers keepalives, and reconnects with backoff.
class ReplicationStream : public QObject
{
    Q_OBJECT
public:
    enum class State { Disconnected, Connecting, Streaming };
    Q_ENUM(State)

    ReplicationStream(QString conninfo, QString slot, QObject *parent = nullptr);
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

Q_SIGNALS:
    void transactionReceived(const Realtime::Transaction &transaction);
    void stateChanged(Realtime::ReplicationStream::State state);
    void problem(const Core::Error &error);
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
    void finishConnect(PGconn *conn, quint64 startLsn, bool slotRecreated, const QString &error);

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
    std::optional<Transaction> m_current;
    quint64 m_attempt = 0;
    bool m_setupInFlight = false;
};

} // namespace Realtime
