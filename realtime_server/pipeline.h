#pragma once

#include "checker.h"
#include "replaywindow.h"
#include "subscription.h"
#include "transaction.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>
#include <optional>

namespace Realtime {

// Every committed transaction passes here, in commit order: duplicates dropped, kept in
// the replay window, judged for every subscription (filter first), the row images that
// need row-level security asked about in one round trip per batch of transactions, then
// delivered. It decides what may be confirmed to PostgreSQL, and when a restarted server
// is ready to serve. No database and no sockets: the Checker and the SubscriberSinks are
// its only ways out, so every rule here is tested without either (tst_pipeline).
class Pipeline : public QObject
{
    Q_OBJECT
public:
    struct Limits
    {
        int batchEvents = 5000;                  // events judged and checked together
        qint64 batchBytes = 8LL * 1024 * 1024;
        qint64 queueBytes = 64LL * 1024 * 1024;  // above this the replication stream pauses
        int replayChunk = 2000;                  // window entries checked per replay round
        qint64 replayBufferBytes = 8LL * 1024 * 1024; // live frames held per replaying subscription
        int subscribeWaitMs = 30000;             // how long a subscription waits for a restarted server
        int retryMinMs = 5;
        int retryMaxMs = 5000;
        bool filterBeforeRls = true;             // off only to measure what filtering first saves
        int probeIntervalMs = 2000;              // subscribed tables re-read this often when no batch touches them
    };
    struct Stats
    {
        qint64 eventsIn = 0;
        qint64 transactions = 0;
        qint64 duplicatesDropped = 0;        // transactions resent by the slot and skipped
        qint64 messagesOut = 0;
        qint64 checkRounds = 0;              // round trips to PostgreSQL for a batch or replay
        qint64 checkGroups = 0;              // (identity, table) questions in them
        qint64 rowsChecked = 0;
        qint64 rowsVisible = 0;
        qint64 checkRetries = 0;             // rounds asked again (not visible yet, PostgreSQL away)
        qint64 subscriptionsEnded = 0;       // ended by the server (check failed, privilege lost, ...)
        qint64 rowsWithheld = 0;             // could not be judged: the client was told
        qint64 replays = 0;
        qint64 pauses = 0;                   // times the replication stream was paused
        qint64 tableReloads = 0;
    };

    Pipeline(ReplayWindow::Limits window, Limits limits, Checker *checker, QObject *parent = nullptr);
    ~Pipeline() override;

    // ---- from the replication stream
    void append(TransactionChunk chunk);
    // A fresh start: the slot resends from `lsn`, nothing older can be replayed. Only
    // takes effect while nothing has been received yet.
    void slotStartedAt(quint64 lsn);
    // Everything the slot had retained has arrived: waiting subscriptions start.
    void markCaughtUp();
    // The slot lost WAL and was recreated at `lsn`: every subscription is told to resync.
    void historyLost(quint64 lsn);
    // A document of the transaction at `txLsn` cannot be decoded: deliver what came
    // before, then stop; never confirm past it.
    void stall(const Core::Error &error, quint64 txLsn);

    // ---- subscriptions (their checks at subscribe time passed)
    // Sends `subscribed` (with `ref`) once delivery to it is live, replaying `since`
    // first; or ends it with cursor_too_old, stream_error or unavailable.
    void activate(const std::shared_ptr<Subscription> &sub, const QString &ref);
    void remove(const std::shared_ptr<Subscription> &sub);

    // ---- state
    bool isReady() const { return m_ready; }
    bool isStalled() const { return m_stall.has_value() && m_stallReached; }
    std::optional<Core::Error> stallError() const { return m_stall; }
    bool isPaused() const { return m_paused; }
    // Checks have failed for this long (PostgreSQL away); 0 when they succeed.
    qint64 failingForMs() const;
    Core::EventCursor head() const { return m_head; }
    // What PostgreSQL may forget: nothing a client may still replay, nothing still in
    // the pipeline; with nothing held, the end of WAL the server reported.
    quint64 confirmPosition(quint64 serverWalEnd) const;
    // The end of the last transaction delivered (for lag).
    quint64 processedLsn() const { return m_lastEndLsn; }
    bool isIdle() const { return m_queue.empty() && !m_batch; }
    qint64 queuedBytes() const { return m_queuedBytes; }
    int subscriptionCount() const { return m_subscriptions; }
    const ReplayWindow &window() const { return m_window; }
    void trimWindow(qint64 nowMs);
    const Stats &stats() const { return m_stats; }

Q_SIGNALS:
    // Pause (true) or resume (false) reading the replication stream.
    void flowControl(bool pause);

private:
    struct Batch;
    struct Replay;
    using SubList = QList<std::shared_ptr<Subscription>>;

    void pump();
    std::shared_ptr<Batch> takeBatch();
    void advance(const std::shared_ptr<Batch> &batch);
    void onReply(const std::shared_ptr<Batch> &batch, CheckReply reply);
    void onTablesReloaded(const std::shared_ptr<Batch> &batch, const QHash<quint32, std::optional<TableInfo>> &tables);
    void rebindTables(const QHash<quint32, std::optional<TableInfo>> &tables);
    void deliver(const std::shared_ptr<Batch> &batch);
    void retryLater(const std::shared_ptr<Batch> &batch, bool soon, const QString &why);
    void pumpReplays();
    void replayRound(const std::shared_ptr<Replay> &replay);
    void finishReplay(const std::shared_ptr<Replay> &replay);
    void start(const std::shared_ptr<Subscription> &sub, const QString &ref);
    void send(const std::shared_ptr<Subscription> &sub, const Core::EventCursor &cursor, const QByteArray &frame, bool replay);
    void end(const std::shared_ptr<Subscription> &sub, const QString &code, const QString &message, const QString &ref = {});
    const SubList *candidates(const Core::PgEvent &event) const;
    void updateFlow();
    void enterStall();
    void expireWaiting();
    void endAll(const QString &code, const QString &message);
    void checkReady();
    void becomeReady();
    void probeTables();

    ReplayWindow m_window;
    Limits m_limits;
    Checker *m_checker;

    std::deque<TransactionChunk> m_queue;
    qint64 m_queuedBytes = 0;
    std::shared_ptr<Batch> m_batch;
    bool m_inPump = false;
    bool m_pumpAgain = false;
    QTimer m_retryTimer;
    int m_retryDelayMs = 0;
    qint64 m_failingSinceMs = 0;
    bool m_paused = false;

    quint64 m_lastTxLsn = 0;      // newest transaction accepted (resends are not newer)
    quint64 m_skippingLsn = 0;    // dropping the rest of a resent transaction
    quint64 m_openTxLsn = 0;      // a transaction whose last chunk has not arrived
    qint64 m_openTxSeq = -1;      // the last event of it taken
    quint64 m_lastEndLsn = 0;
    Core::EventCursor m_head;
    bool m_receivedAny = false;

    bool m_ready = false;
    bool m_caughtUpPending = false;
    quint64 m_readyAfterLsn = 0;  // the last transaction of the backlog
    struct Waiting { std::shared_ptr<Subscription> sub; QString ref; qint64 deadlineMs; };
    std::vector<Waiting> m_waiting;
    QTimer m_waitTimer;

    std::optional<Core::Error> m_stall;
    quint64 m_stallLsn = 0;
    bool m_stallReached = false;

    QHash<quint32, SubList> m_byTable;
    QHash<QString, SubList> m_byChannel;
    int m_subscriptions = 0;

    std::deque<std::shared_ptr<Replay>> m_replays;
    bool m_replayInFlight = false;
    QTimer m_replayRetry;
    QTimer m_probeTimer;
    bool m_probeInFlight = false;
    Stats m_stats;
};

} // namespace Realtime
