#include "pipeline.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcPipeline, "pgext.realtime.pipeline", QtInfoMsg)

namespace Realtime {

using Core::EventCursor;
using Core::PgEvent;

// A run of transactions judged and checked together.
struct Pipeline::Batch
{
    std::vector<WindowEntryPtr> entries;
    std::vector<quint64> xids;
    quint64 firstLsn = 0;
    quint64 endLsn = 0;            // end of the last transaction completed in it
    bool probed = false;           // fingerprints and privileges answered in this attempt
    // Per "identity key \x1e relid": which entries were asked about, which are visible.
    struct Answer
    {
        QSet<int> asked;
        QSet<int> visible;
    };
    QHash<QString, Answer> answers;
    // The round in flight: group i of the request asked about these entries.
    struct Asked
    {
        QString key;
        quint32 relid = 0;
        std::vector<int> entries;
    };
    std::vector<Asked> asked;
    bool probing = false;
    std::vector<quint32> probedTables;
};

struct Pipeline::Replay
{
    std::shared_ptr<Subscription> sub;
    std::vector<WindowEntryPtr> entries;
    size_t next = 0;
    int failures = 0;
};

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

static QString groupKey(const Subscription &sub)
{
    return sub.sink->identity().key() + u'\x1e' + QString::number(sub.relid());
}

Pipeline::Pipeline(ReplayWindow::Limits window, Limits limits, Checker *checker, QObject *parent)
    : QObject(parent), m_window(window), m_limits(limits), m_checker(checker)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (m_batch)
            advance(m_batch);
        pump();
    });
    m_waitTimer.setInterval(500);
    connect(&m_waitTimer, &QTimer::timeout, this, &Pipeline::expireWaiting);
    m_replayRetry.setSingleShot(true);
    connect(&m_replayRetry, &QTimer::timeout, this, &Pipeline::pumpReplays);
    // A dropped table sends no more events, so no batch would notice: look regularly.
    m_probeTimer.setInterval(std::max(100, m_limits.probeIntervalMs));
    connect(&m_probeTimer, &QTimer::timeout, this, &Pipeline::probeTables);
    m_probeTimer.start();
}

Pipeline::~Pipeline() = default;

// ---- input ---------------------------------------------------------------------------

void Pipeline::append(TransactionChunk chunk)
{
    m_receivedAny = true;
    if (chunk.first) {
        if (m_openTxLsn && chunk.lsn == m_openTxLsn) {
            // The connection broke inside a transaction we had only part of: the slot
            // sends it again from its start. Keep what is new.
            m_skippingLsn = 0;
        } else if (chunk.lsn <= m_lastTxLsn) {
            // After a reconnect or restart the slot resends from its confirmed position:
            // commit LSNs only grow, so a transaction that is not newer was seen.
            m_skippingLsn = chunk.lsn;
            ++m_stats.duplicatesDropped;
            return;
        } else {
            m_skippingLsn = 0;
            m_lastTxLsn = chunk.lsn;
            m_openTxSeq = -1;
            ++m_stats.transactions;
            m_openTxLsn = chunk.lsn;
        }
    } else if (m_skippingLsn && chunk.lsn == m_skippingLsn) {
        return;
    }
    if (chunk.lsn == m_openTxLsn) {
        // Events of it already taken (a resend after a reconnect) are not taken twice.
        const qint64 seen = m_openTxSeq;
        std::erase_if(chunk.events, [seen](const PgEvent &e) { return qint64(e.seq) <= seen; });
        if (!chunk.events.empty())
            m_openTxSeq = chunk.events.back().seq;
        if (chunk.last)
            m_openTxLsn = 0;
    }
    m_queuedBytes += chunk.bytes;
    m_queue.push_back(std::move(chunk));
    updateFlow();
    pump();
}

void Pipeline::slotStartedAt(quint64 lsn)
{
    // The slot resends transactions committed at or after its confirmed position;
    // anything older is gone, so older cursors must get cursor_too_old.
    if (!m_receivedAny && m_window.isEmpty())
        m_window.setHorizon({lsn, 0});
}

void Pipeline::markCaughtUp()
{
    if (m_ready || m_caughtUpPending)
        return;
    // Ready once the backlog received so far has been through the pipeline: starting
    // earlier would deliver the rebuilt history as live events.
    m_caughtUpPending = true;
    m_readyAfterLsn = m_lastTxLsn;
    checkReady();
}

void Pipeline::checkReady()
{
    if (!m_caughtUpPending)
        return;
    const quint64 last = m_readyAfterLsn;
    if ((m_batch && m_batch->firstLsn <= last) || (!m_queue.empty() && m_queue.front().lsn <= last)
        || (m_openTxLsn && m_openTxLsn <= last))
        return;
    m_caughtUpPending = false;
    becomeReady();
}

void Pipeline::becomeReady()
{
    if (m_ready)
        return;
    m_ready = true;
    qCInfo(lcPipeline).noquote() << "caught up with the slot at" << m_head.toString() << "with" << m_window.size()
                                 << "events retained;" << m_waiting.size() << "subscriptions start";
    auto waiting = std::move(m_waiting);
    m_waiting.clear();
    m_waitTimer.stop();
    for (Waiting &w : waiting)
        if (w.sub->state == Subscription::State::Pending)
            start(w.sub, w.ref);
}

void Pipeline::historyLost(quint64 lsn)
{
    qCWarning(lcPipeline).noquote() << "the slot lost WAL and was recreated at" << Core::Lsn::format(lsn)
                                    << "; every subscription is told to resynchronise";
    m_window.reset({lsn, 0});
    endAll(u"cursor_too_old"_qs, u"the server lost part of the change history; resynchronise and subscribe without since"_qs);
}

void Pipeline::endAll(const QString &code, const QString &message)
{
    SubList all;
    for (const SubList &l : std::as_const(m_byTable))
        all += l;
    for (const SubList &l : std::as_const(m_byChannel))
        all += l;
    auto waiting = std::move(m_waiting);
    m_waiting.clear();
    for (const auto &sub : std::as_const(all))
        end(sub, code, message);
    for (const Waiting &w : waiting)
        end(w.sub, code, message, w.ref);
}

void Pipeline::stall(const Core::Error &error, quint64 txLsn)
{
    if (m_stall)
        return;
    m_stall = error;
    m_stallLsn = txLsn;
    qCCritical(lcPipeline).noquote() << "delivery stops before the transaction at" << Core::Lsn::format(txLsn) << ":"
                                     << error.message;
    if (isIdle())
        enterStall();
}

void Pipeline::enterStall()
{
    if (m_stallReached || !m_stall)
        return;
    m_stallReached = true;
    const QString message = u"the server cannot read the change stream past %1 (%2); delivery has stopped until an "
                            "operator fixes it. Reconnect later and resume with your cursor"_qs
                                .arg(Core::Lsn::format(m_stallLsn), m_stall->message);
    endAll(u"stream_error"_qs, message);
}

// ---- subscriptions -------------------------------------------------------------------

void Pipeline::activate(const std::shared_ptr<Subscription> &sub, const QString &ref)
{
    if (isStalled()) {
        end(sub, u"stream_error"_qs, u"delivery has stopped: the server cannot read the change stream (%1)"_qs.arg(m_stall->message), ref);
        return;
    }
    if (!m_ready) {
        // A restarted server rebuilds its window from the slot first: serving `since` or
        // starting live delivery before that would skip or repeat history.
        m_waiting.push_back({sub, ref, nowMs() + m_limits.subscribeWaitMs});
        if (!m_waitTimer.isActive())
            m_waitTimer.start();
        return;
    }
    start(sub, ref);
}

void Pipeline::start(const std::shared_ptr<Subscription> &sub, const QString &ref)
{
    if (sub->since && !m_window.canServe(*sub->since)) {
        end(sub, u"cursor_too_old"_qs, u"events after this cursor are no longer retained; resynchronise and subscribe without since"_qs, ref);
        return;
    }
    if (sub->isChannel())
        m_byChannel[sub->channel()].append(sub);
    else
        m_byTable[sub->relid()].append(sub);
    ++m_subscriptions;
    // From here on every batch delivers to it (buffered while replaying): nothing after
    // `head` can be missed, nothing up to it is sent live.
    sub->state = sub->since ? Subscription::State::Replaying : Subscription::State::Live;
    if (!sub->since)
        sub->lastSent = std::max(sub->lastSent, m_head);
    QJsonObject ok{{u"type"_qs, u"subscribed"_qs}, {u"id"_qs, sub->id()}, {u"cursor"_qs, m_head.toString()}};
    if (!ref.isEmpty())
        ok.insert(u"ref"_qs, ref);
    sub->sink->sendFrame(QJsonDocument(ok).toJson(QJsonDocument::Compact));
    if (!sub->since)
        return;
    auto replay = std::make_shared<Replay>();
    replay->sub = sub;
    for (const WindowEntryPtr &e : m_window.after(*sub->since))
        if (!(m_head < e->cursor())) // later ones are in flight and arrive live
            replay->entries.push_back(e);
    ++m_stats.replays;
    m_replays.push_back(std::move(replay));
    pumpReplays();
}

void Pipeline::remove(const std::shared_ptr<Subscription> &sub)
{
    if (sub->state == Subscription::State::Closed)
        return;
    const bool indexed = sub->state != Subscription::State::Pending;
    sub->state = Subscription::State::Closed;
    sub->buffered.clear();
    if (!indexed)
        return;
    --m_subscriptions;
    if (sub->isChannel()) {
        auto it = m_byChannel.find(sub->channel());
        if (it != m_byChannel.end()) {
            it->removeAll(sub);
            if (it->isEmpty())
                m_byChannel.erase(it);
        }
    } else {
        auto it = m_byTable.find(sub->relid());
        if (it != m_byTable.end()) {
            it->removeAll(sub);
            if (it->isEmpty())
                m_byTable.erase(it);
        }
    }
}

void Pipeline::end(const std::shared_ptr<Subscription> &sub, const QString &code, const QString &message, const QString &ref)
{
    if (sub->state == Subscription::State::Closed)
        return;
    remove(sub);
    ++m_stats.subscriptionsEnded;
    qCInfo(lcPipeline).noquote() << "ended subscription" << sub->id() << "with" << code << ":" << message;
    if (sub->sink)
        sub->sink->endSubscription(sub->id(), code, message, ref);
}

void Pipeline::expireWaiting()
{
    const qint64 now = nowMs();
    std::vector<Waiting> keep;
    std::vector<Waiting> expired;
    for (Waiting &w : m_waiting)
        (w.deadlineMs <= now ? expired : keep).push_back(std::move(w));
    m_waiting = std::move(keep);
    if (m_waiting.empty())
        m_waitTimer.stop();
    for (const Waiting &w : expired)
        end(w.sub, u"unavailable"_qs, u"the server is still reading the change history from its replication slot; "
                                      "subscribe again in a moment"_qs, w.ref);
}

const Pipeline::SubList *Pipeline::candidates(const PgEvent &event) const
{
    if (event.op == PgEvent::Op::Message) {
        const auto it = m_byChannel.constFind(event.channel);
        return it == m_byChannel.constEnd() ? nullptr : &*it;
    }
    if (event.relid) {
        const auto it = m_byTable.constFind(event.relid);
        return it == m_byTable.constEnd() ? nullptr : &*it;
    }
    // pg_events older than 1.1 writes no relid: by exact name.
    for (auto it = m_byTable.constBegin(); it != m_byTable.constEnd(); ++it) {
        const auto &info = it->first()->info();
        if (info && info->schema == event.schema && info->name == event.table)
            return &*it;
    }
    return nullptr;
}

// ---- batches -------------------------------------------------------------------------

void Pipeline::pump()
{
    // A loop, not recursion: a checker that answers at once (tests, empty batches) calls
    // back into pump() while it runs.
    if (m_inPump) {
        m_pumpAgain = true;
        return;
    }
    m_inPump = true;
    do {
        m_pumpAgain = false;
        while (!m_batch && !m_queue.empty()) {
            m_batch = takeBatch();
            advance(m_batch);
        }
        if (!m_batch && m_queue.empty() && m_stall && !m_stallReached)
            enterStall();
    } while (m_pumpAgain);
    m_inPump = false;
    updateFlow();
    pumpReplays();
}

std::shared_ptr<Pipeline::Batch> Pipeline::takeBatch()
{
    auto batch = std::make_shared<Batch>();
    const qint64 now = nowMs();
    qint64 bytes = 0;
    while (!m_queue.empty()) {
        TransactionChunk &chunk = m_queue.front();
        if (!batch->entries.empty()
            && (int(batch->entries.size() + chunk.events.size()) > m_limits.batchEvents || bytes + chunk.bytes > m_limits.batchBytes))
            break;
        if (!batch->firstLsn)
            batch->firstLsn = chunk.lsn;
        if (batch->xids.empty() || batch->xids.back() != chunk.xid)
            batch->xids.push_back(chunk.xid);
        const qint64 perEvent = chunk.events.empty() ? 0 : chunk.bytes / qint64(chunk.events.size());
        for (PgEvent &event : chunk.events) {
            WindowEntryPtr entry = WindowEntry::make(std::move(event), chunk.commitTime, chunk.lsn, now, perEvent);
            m_window.append(entry);
            batch->entries.push_back(std::move(entry));
        }
        m_stats.eventsIn += qint64(chunk.events.size());
        if (chunk.last)
            batch->endLsn = std::max(batch->endLsn, chunk.endLsn);
        bytes += chunk.bytes;
        m_queuedBytes -= chunk.bytes;
        m_queue.pop_front();
    }
    return batch;
}

// Asks what the batch still needs answered, or delivers it when nothing is left.
void Pipeline::advance(const std::shared_ptr<Batch> &batch)
{
    CheckRequest request;
    QSet<quint32> tables;
    QSet<QString> privileges;
    QHash<QString, int> groupIndex;
    batch->asked.clear();
    for (int i = 0; i < int(batch->entries.size()); ++i) {
        const WindowEntry &entry = *batch->entries[size_t(i)];
        const SubList *subs = candidates(entry.event);
        if (!subs)
            continue;
        for (const auto &sub : *subs) {
            if (sub->state != Subscription::State::Live && sub->state != Subscription::State::Replaying)
                continue;
            const Subscription::Verdict v = sub->judge(entry, m_limits.filterBeforeRls);
            if (v.kind == Subscription::Verdict::Kind::Skip)
                continue;
            if (!sub->isChannel()) {
                tables.insert(sub->relid());
                if (!privileges.contains(CheckReply::privilegeKey(sub->sink->identity().role, sub->relid()))) {
                    privileges.insert(CheckReply::privilegeKey(sub->sink->identity().role, sub->relid()));
                    request.privileges.emplace_back(sub->sink->identity().role, sub->relid());
                }
            }
            if (v.kind != Subscription::Verdict::Kind::Check)
                continue;
            const QString key = groupKey(*sub);
            const auto answered = batch->answers.constFind(key);
            if (answered != batch->answers.constEnd() && answered->asked.contains(i))
                continue;
            int g = groupIndex.value(key, -1);
            if (g < 0) {
                g = int(request.groups.size());
                groupIndex.insert(key, g);
                request.groups.push_back({sub->sink->identity(), sub->relid(), {}});
                batch->asked.push_back({key, sub->relid(), {}});
            }
            Batch::Asked &asked = batch->asked[size_t(g)];
            if (!asked.entries.empty() && asked.entries.back() == i)
                continue; // another subscriber of the same identity: one question
            asked.entries.push_back(i);
            request.groups[size_t(g)].images.push_back(v.image);
        }
    }
    batch->probing = !batch->probed && (!tables.isEmpty() || !request.privileges.empty());
    if (batch->probing) {
        request.tables.assign(tables.begin(), tables.end());
        batch->probedTables = request.tables;
    } else {
        request.privileges.clear();
    }
    if (request.groups.empty() && !batch->probing) {
        deliver(batch);
        return;
    }
    // Visible first: policies and the catalog must be read after the commit.
    request.xids = batch->xids;
    ++m_stats.checkRounds;
    m_stats.checkGroups += qint64(request.groups.size());
    for (const auto &g : request.groups)
        m_stats.rowsChecked += qint64(g.images.size());
    m_checker->check(std::move(request), false, [this, batch](CheckReply reply) { onReply(batch, std::move(reply)); });
}

void Pipeline::retryLater(const std::shared_ptr<Batch> &batch, bool soon, const QString &why)
{
    ++m_stats.checkRetries;
    if (!m_failingSinceMs)
        m_failingSinceMs = nowMs();
    batch->probed = false;
    batch->answers.clear();
    const int floor = soon ? m_limits.retryMinMs : std::max(m_limits.retryMinMs, 250);
    const int ceiling = soon ? std::min(m_limits.retryMaxMs, 50) : m_limits.retryMaxMs;
    m_retryDelayMs = std::clamp(m_retryDelayMs ? m_retryDelayMs * 2 : floor, floor, ceiling);
    const qint64 failing = nowMs() - m_failingSinceMs;
    // Never past a transaction whose checks did not complete: wait and ask again.
    if (!soon || failing > 5000)
        qCWarning(lcPipeline).noquote() << "checks for the transactions from" << Core::Lsn::format(batch->firstLsn)
                                        << "did not complete (" << why << "); asking again in" << m_retryDelayMs
                                        << "ms, delivery waits (" << failing << "ms so far)";
    m_retryTimer.start(m_retryDelayMs);
}

qint64 Pipeline::failingForMs() const
{
    return m_failingSinceMs ? nowMs() - m_failingSinceMs : 0;
}

void Pipeline::onReply(const std::shared_ptr<Batch> &batch, CheckReply reply)
{
    if (batch != m_batch)
        return;
    if (reply.status == CheckReply::Status::Unavailable) {
        retryLater(batch, false, reply.error.message);
        return;
    }
    if (reply.status == CheckReply::Status::NotVisible) {
        retryLater(batch, true, u"the transaction is not visible yet"_qs);
        return;
    }
    m_failingSinceMs = 0;
    m_retryDelayMs = 0;
    if (batch->probing) {
        batch->probed = true;
        batch->probing = false;
        // A table changed (RLS switched on, a column dropped, renamed, dropped): read it
        // again and judge the whole batch with what is true now.
        QList<quint32> changed;
        for (const quint32 relid : std::as_const(batch->probedTables)) {
            const auto fp = reply.fingerprints.constFind(relid);
            for (const auto &sub : m_byTable.value(relid)) {
                if (fp == reply.fingerprints.constEnd() || !sub->info() || sub->info()->fingerprint != *fp) {
                    changed << relid;
                    break;
                }
            }
        }
        if (!changed.isEmpty()) {
            ++m_stats.tableReloads;
            qCInfo(lcPipeline) << "tables changed, reading them again:" << changed;
            m_checker->reloadTables(changed, [this, batch](Core::Result<QHash<quint32, std::optional<TableInfo>>> tables) {
                if (batch != m_batch)
                    return;
                if (!tables) {
                    retryLater(batch, false, tables.error().message);
                    return;
                }
                onTablesReloaded(batch, *tables);
            });
            return;
        }
        // A role that lost SELECT on the table, or that the server may no longer switch
        // to, gets nothing more: PostgREST would refuse it now.
        for (const QString &key : std::as_const(reply.denied)) {
            const quint32 relid = key.section(u'\x1f', 1).toUInt();
            const QString role = key.section(u'\x1f', 0, 0);
            const SubList subs = m_byTable.value(relid);
            for (const auto &sub : subs)
                if (sub->sink->identity().role == role)
                    end(sub, u"forbidden"_qs, u"role \"%1\" may no longer read %2"_qs.arg(role, sub->tableName()));
        }
    }
    for (size_t g = 0; g < batch->asked.size(); ++g) {
        const Batch::Asked &asked = batch->asked[g];
        Batch::Answer &answer = batch->answers[asked.key];
        const CheckReply::Group result = g < reply.groups.size() ? reply.groups[g] : CheckReply::Group{};
        if (g >= reply.groups.size() || result.error) {
            // This identity's check fails (a policy error for its claims, a role it may no
            // longer use): it sees nothing of it, and is told so.
            const QString message = result.error ? result.error->message : u"no answer for this check"_qs;
            const SubList subs = m_byTable.value(asked.relid);
            for (const auto &sub : subs)
                if (groupKey(*sub) == asked.key)
                    end(sub, u"check_failed"_qs, u"the row-level-security check for %1 failed: %2"_qs.arg(sub->tableName(), message));
        }
        for (size_t p = 0; p < asked.entries.size(); ++p) {
            answer.asked.insert(asked.entries[p]);
            if (!result.error && result.visible.contains(int(p)))
                answer.visible.insert(asked.entries[p]);
        }
        m_stats.rowsVisible += result.error ? 0 : result.visible.size();
    }
    batch->asked.clear();
    // Subscriptions that started while the question was out are asked about next.
    advance(batch);
}

void Pipeline::onTablesReloaded(const std::shared_ptr<Batch> &batch, const QHash<quint32, std::optional<TableInfo>> &tables)
{
    rebindTables(tables);
    batch->probed = false;
    batch->answers.clear();
    advance(batch);
}

void Pipeline::rebindTables(const QHash<quint32, std::optional<TableInfo>> &tables)
{
    for (auto it = tables.constBegin(); it != tables.constEnd(); ++it) {
        const SubList subs = m_byTable.value(it.key());
        if (!*it) {
            for (const auto &sub : subs)
                end(sub, u"unknown_table"_qs, u"table %1 was dropped or is no longer tracked; subscribe again once it exists"_qs.arg(sub->tableName()));
            continue;
        }
        auto info = std::make_shared<const TableInfo>(**it);
        for (const auto &sub : subs) {
            if (auto e = sub->rebind(info))
                end(sub, e->code.isEmpty() ? u"invalid_filter"_qs : e->code,
                    u"table %1 changed and the subscription no longer fits it: %2"_qs.arg(sub->tableName(), e->message));
        }
    }
}

void Pipeline::deliver(const std::shared_ptr<Batch> &batch)
{
    for (int i = 0; i < int(batch->entries.size()); ++i) {
        const WindowEntry &entry = *batch->entries[size_t(i)];
        const EventCursor cursor = entry.cursor();
        if (const SubList *found = candidates(entry.event)) {
            QHash<QString, QByteArray> cache; // one serialization per projection
            const SubList subs = *found;      // end() may change the index
            for (const auto &sub : subs) {
                if (sub->state != Subscription::State::Live && sub->state != Subscription::State::Replaying)
                    continue;
                if (!(sub->lastSent < cursor))
                    continue;
                const Subscription::Verdict v = sub->judge(entry);
                switch (v.kind) {
                case Subscription::Verdict::Kind::Skip:
                    continue;
                case Subscription::Verdict::Kind::Check: {
                    const auto answer = batch->answers.constFind(groupKey(*sub));
                    if (answer == batch->answers.constEnd() || !answer->asked.contains(i)) {
                        // Cannot happen (every round asks for what it delivers); fail closed.
                        qCCritical(lcPipeline) << "no row-level-security answer for" << cursor.toString() << "; withheld";
                        ++m_stats.rowsWithheld;
                        continue;
                    }
                    if (!answer->visible.contains(i))
                        continue;
                    send(sub, cursor, sub->frame(entry, &cache), false);
                    break;
                }
                case Subscription::Verdict::Kind::Withhold:
                    ++m_stats.rowsWithheld;
                    send(sub, cursor, sub->withheldNotice(entry), false);
                    break;
                case Subscription::Verdict::Kind::Deliver:
                    send(sub, cursor, sub->frame(entry, &cache), false);
                    break;
                }
            }
        }
        m_head = std::max(m_head, cursor);
    }
    m_lastEndLsn = std::max(m_lastEndLsn, batch->endLsn);
    if (m_batch == batch)
        m_batch.reset();
    m_window.trim(nowMs());
    checkReady();
    pump();
}

void Pipeline::send(const std::shared_ptr<Subscription> &subscription, const EventCursor &cursor, const QByteArray &frame, bool replay)
{
    Subscription &sub = *subscription;
    if (sub.state == Subscription::State::Replaying && !replay) {
        if (sub.bufferedBytes + frame.size() > m_limits.replayBufferBytes) {
            // The replay is slower than the live stream: better a clear restart than memory
            // without bound.
            end(subscription, u"slow_consumer"_qs, u"live changes piled up while the replay was prepared; subscribe again with since"_qs);
            return;
        }
        sub.bufferedBytes += frame.size();
        sub.buffered.emplace_back(cursor, frame);
        return;
    }
    if (!(sub.lastSent < cursor))
        return;
    sub.lastSent = cursor;
    if (sub.sink->sendFrame(frame))
        ++m_stats.messagesOut;
}

// ---- replays -------------------------------------------------------------------------

void Pipeline::pumpReplays()
{
    // One replay round at a time, after the live batch it was queued behind: a client
    // that subscribes in a loop cannot starve live delivery.
    while (!m_replayInFlight && !m_replays.empty() && !m_replayRetry.isActive()) {
        const std::shared_ptr<Replay> replay = m_replays.front();
        if (replay->sub->state != Subscription::State::Replaying) {
            m_replays.pop_front();
            continue;
        }
        if (replay->next >= replay->entries.size()) {
            m_replays.pop_front();
            finishReplay(replay);
            continue;
        }
        replayRound(replay);
    }
}

void Pipeline::replayRound(const std::shared_ptr<Replay> &replay)
{
    Subscription &sub = *replay->sub;
    const size_t from = replay->next;
    const size_t to = std::min(replay->entries.size(), from + size_t(m_limits.replayChunk));
    std::vector<Subscription::Verdict> verdicts;
    verdicts.reserve(to - from);
    CheckRequest request;
    CheckRequest::Group group{sub.sink->identity(), sub.relid(), {}};
    std::vector<int> positions(to - from, -1);
    for (size_t i = from; i < to; ++i) {
        verdicts.push_back(sub.judge(*replay->entries[i]));
        if (verdicts.back().kind == Subscription::Verdict::Kind::Check) {
            positions[i - from] = int(group.images.size());
            group.images.push_back(verdicts.back().image);
        }
    }
    auto emitFrames = [this, replay, from, to, verdicts, positions](const QSet<int> &visible) {
        const std::shared_ptr<Subscription> &sp = replay->sub;
        Subscription &s = *sp;
        for (size_t i = from; i < to && s.state == Subscription::State::Replaying; ++i) {
            const WindowEntry &entry = *replay->entries[i];
            const Subscription::Verdict &v = verdicts[i - from];
            if (v.kind == Subscription::Verdict::Kind::Skip)
                continue;
            if (v.kind == Subscription::Verdict::Kind::Check && !visible.contains(positions[i - from]))
                continue;
            if (v.kind == Subscription::Verdict::Kind::Withhold)
                ++m_stats.rowsWithheld;
            send(sp, entry.cursor(), v.kind == Subscription::Verdict::Kind::Withhold ? s.withheldNotice(entry) : s.frame(entry), true);
        }
        replay->next = to;
    };
    if (group.images.empty()) {
        emitFrames({});
        return;
    }
    request.groups.push_back(std::move(group));
    ++m_stats.checkRounds;
    ++m_stats.checkGroups;
    m_stats.rowsChecked += qint64(request.groups.front().images.size());
    m_replayInFlight = true;
    m_checker->check(std::move(request), true, [this, replay, emitFrames](CheckReply reply) {
        m_replayInFlight = false;
        if (replay->sub->state == Subscription::State::Replaying) {
            if (reply.status != CheckReply::Status::Ok) {
                ++m_stats.checkRetries;
                const int delay = std::min(m_limits.retryMaxMs, 250 << std::min(replay->failures++, 5));
                qCWarning(lcPipeline).noquote() << "replay check for" << replay->sub->id() << "did not complete ("
                                                << reply.error.message << "); asking again in" << delay << "ms";
                m_replayRetry.start(delay);
                return;
            }
            replay->failures = 0;
            const CheckReply::Group result = reply.groups.empty() ? CheckReply::Group{} : reply.groups.front();
            if (reply.groups.empty() || result.error) {
                for (const auto &s : m_byTable.value(replay->sub->relid()))
                    if (s == replay->sub)
                        end(s, u"check_failed"_qs, u"the row-level-security check for %1 failed: %2"_qs.arg(
                                                       s->tableName(), result.error ? result.error->message : u"no answer"_qs));
            } else {
                m_stats.rowsVisible += result.visible.size();
                emitFrames(result.visible);
            }
        }
        // Not from inside check(): a checker that answers at once would recurse.
        QMetaObject::invokeMethod(this, &Pipeline::pumpReplays, Qt::QueuedConnection);
    });
}

void Pipeline::finishReplay(const std::shared_ptr<Replay> &replay)
{
    Subscription &sub = *replay->sub;
    sub.state = Subscription::State::Live;
    auto buffered = std::move(sub.buffered);
    sub.buffered.clear();
    sub.bufferedBytes = 0;
    for (const auto &[cursor, frame] : buffered)
        send(replay->sub, cursor, frame, true);
}

// ---- bookkeeping ---------------------------------------------------------------------

void Pipeline::probeTables()
{
    if (m_probeInFlight || m_byTable.isEmpty())
        return;
    CheckRequest request;
    QSet<QString> seen;
    for (auto it = m_byTable.constBegin(); it != m_byTable.constEnd(); ++it) {
        request.tables.push_back(it.key());
        for (const auto &sub : *it) {
            const QString key = CheckReply::privilegeKey(sub->sink->identity().role, it.key());
            if (!seen.contains(key)) {
                seen.insert(key);
                request.privileges.emplace_back(sub->sink->identity().role, it.key());
            }
        }
    }
    m_probeInFlight = true;
    m_checker->check(std::move(request), true, [this](CheckReply reply) {
        m_probeInFlight = false;
        if (reply.status != CheckReply::Status::Ok)
            return; // the next probe, or the next batch, asks again
        QList<quint32> changed;
        for (auto it = m_byTable.constBegin(); it != m_byTable.constEnd(); ++it) {
            const auto fp = reply.fingerprints.constFind(it.key());
            for (const auto &sub : *it)
                if (fp == reply.fingerprints.constEnd() || !sub->info() || sub->info()->fingerprint != *fp) {
                    changed << it.key();
                    break;
                }
        }
        for (const QString &key : std::as_const(reply.denied)) {
            const quint32 relid = key.section(u'\x1f', 1).toUInt();
            const QString role = key.section(u'\x1f', 0, 0);
            if (changed.contains(relid))
                continue; // judged after the reload
            const SubList subs = m_byTable.value(relid);
            for (const auto &sub : subs)
                if (sub->sink->identity().role == role)
                    end(sub, u"forbidden"_qs, u"role \"%1\" may no longer read %2"_qs.arg(role, sub->tableName()));
        }
        if (changed.isEmpty())
            return;
        ++m_stats.tableReloads;
        m_probeInFlight = true;
        m_checker->reloadTables(changed, [this](Core::Result<QHash<quint32, std::optional<TableInfo>>> tables) {
            m_probeInFlight = false;
            if (tables)
                rebindTables(*tables);
        });
    });
}

void Pipeline::updateFlow()
{
    // Backpressure: stop reading the replication stream while the queue is full (slow
    // checks, a huge transaction), so memory stays bounded; PostgreSQL keeps the rest.
    if (!m_paused && m_queuedBytes > m_limits.queueBytes) {
        m_paused = true;
        ++m_stats.pauses;
        Q_EMIT flowControl(true);
    } else if (m_paused && m_queuedBytes <= m_limits.queueBytes / 2) {
        m_paused = false;
        Q_EMIT flowControl(false);
    }
}

void Pipeline::trimWindow(qint64 now)
{
    m_window.trim(now);
}

quint64 Pipeline::confirmPosition(quint64 serverWalEnd) const
{
    quint64 pos = ~quint64(0);
    auto hold = [&pos](quint64 lsn) {
        if (lsn)
            pos = std::min(pos, lsn);
    };
    if (m_batch)
        hold(m_batch->firstLsn);
    if (!m_queue.empty())
        hold(m_queue.front().lsn);
    hold(m_openTxLsn);
    hold(m_window.oldestTransactionLsn());
    if (m_stall)
        hold(m_stallLsn);
    if (pos != ~quint64(0))
        return pos;
    return std::max(serverWalEnd, m_lastEndLsn);
}

} // namespace Realtime
