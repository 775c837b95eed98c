#include "pipelinetestkit.h"

#include <QSignalSpy>
#include <QTest>

using namespace Core;
using namespace Realtime;
using namespace PipelineTestKit;
using Op = PgEvent::Op;

// Every rule of delivery, without a database: transactions in, frames out, the checker
// answering from memory. Each test names the defect of the realtime issue it covers.
class TestPipeline : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void commitOrderAndResentTransactions();
    void transactionResentAfterBrokenConnection();
    void restartWaitsForTheBacklog();
    void sinceOlderThanTheSlotIsTooOld();
    void confirmNeverPassesWhatIsHeld();
    void failedChecksAreRetriedNeverSkipped_data();
    void failedChecksAreRetriedNeverSkipped();
    void failingIdentityEndsOnlyItself();
    void rowImageIsJudgedNotTheRowNow();
    void deletesOnRlsTables();
    void batchesAcrossTransactionsAndIdentities();
    void filterBeforeRls();
    void tableChangeIsNoticed();
    void droppedTableEndsSubscriptions();
    void lostPrivilegeEndsSubscriptions();
    void lostHistoryEndsEverySubscription();
    void undecodableDocumentStalls();
    void backpressureAndChunks();
    void replayThenBufferedLive();
    void subscriptionDuringABatch();
    void unchangedToastUnderRls();
};

static Pipeline::Limits limits()
{
    Pipeline::Limits l;
    l.retryMinMs = 1;
    l.retryMaxMs = 20;
    return l;
}

void TestPipeline::commitOrderAndResentTransactions()
{
    // Defect 16 (and the PITFALLS): the slot resends from its confirmed position; nothing
    // is delivered twice and order holds.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink a(u"u"_qs);
    auto sub = tableSub(&a, table(100, false));
    p.activate(sub, u"r1"_qs);
    QCOMPARE(a.of(u"subscribed"_qs).size(), 1);
    QCOMPARE(a.of(u"subscribed"_qs).first().value(u"ref"_qs).toString(), u"r1"_qs);
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs), change(Op::Insert, 100, 2, u"u"_qs)}));
    p.append(tx(2000, {change(Op::Update, 100, 1, u"u"_qs)}));
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs), change(Op::Insert, 100, 2, u"u"_qs)})); // resent
    p.append(tx(3000, {change(Op::Delete, 100, 2, u"u"_qs)}));
    QCOMPARE(a.ids(), (QList<int>{1, 2, 1, 2}));
    QCOMPARE(p.stats().duplicatesDropped, 1);
    QStringList cursors;
    for (const auto &f : a.of(u"change"_qs))
        cursors << f.value(u"cursor"_qs).toString();
    for (int i = 1; i < cursors.size(); ++i)
        QVERIFY(cursors[i - 1] < cursors[i]);
    // One probe of the table's fingerprint and grants per batch (here one per
    // transaction), and no row-level-security question for a table without RLS.
    QCOMPARE(checker.requests, 3);
    QCOMPARE(checker.groups, 0);
}

void TestPipeline::transactionResentAfterBrokenConnection()
{
    // A connection that broke inside a big transaction: the slot sends it again from its
    // start; the events already taken are not taken twice, the rest are not lost.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink a(u"u"_qs);
    p.activate(tableSub(&a, table(100, false)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs), change(Op::Insert, 100, 2, u"u"_qs)}, 0, true, false));
    QCOMPARE(a.ids(), (QList<int>{1, 2}));
    QVERIFY(p.confirmPosition(99999) <= 1000); // the open transaction holds the slot
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs), change(Op::Insert, 100, 2, u"u"_qs),
                       change(Op::Insert, 100, 3, u"u"_qs), change(Op::Insert, 100, 4, u"u"_qs)}));
    QCOMPARE(a.ids(), (QList<int>{1, 2, 3, 4}));
    QCOMPARE(p.stats().duplicatesDropped, 0);
}

void TestPipeline::restartWaitsForTheBacklog()
{
    // Defects 3 and 16: a restarted server rebuilds its window from the slot's resend.
    // Until then a subscription waits: `since` is served exactly, one without `since` gets
    // the real head and none of the history as live events.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.slotStartedAt(1000);
    FakeSink resumed(u"u"_qs), fresh(u"u"_qs);
    const EventCursor since{1000, 0};
    auto r = tableSub(&resumed, table(100, false), u"r"_qs, {}, since);
    auto f = tableSub(&fresh, table(100, false), u"f"_qs);
    p.activate(r, {});
    p.activate(f, {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs), change(Op::Insert, 100, 2, u"u"_qs)}));
    p.append(tx(2000, {change(Op::Insert, 100, 3, u"u"_qs)}));
    QVERIFY(resumed.frames.isEmpty());
    QVERIFY(fresh.frames.isEmpty());
    QVERIFY(!p.isReady());
    p.markCaughtUp();
    QVERIFY(p.isReady());
    QCOMPARE(resumed.ids(), (QList<int>{2, 3})); // after its cursor, not from the start
    QCOMPARE(fresh.ids(), QList<int>{});
    const QString head = fresh.of(u"subscribed"_qs).value(0).value(u"cursor"_qs).toString();
    QCOMPARE(head, (EventCursor{2000, 0}.toString())); // not 0000…
    p.append(tx(3000, {change(Op::Insert, 100, 4, u"u"_qs)}));
    QCOMPARE(resumed.ids(), (QList<int>{2, 3, 4}));
    QCOMPARE(fresh.ids(), QList<int>{4});
    // Caught up while part of the backlog is still queued: ready only after it is through.
    FakeChecker slow;
    slow.defer = true;
    Pipeline q({}, limits(), &slow);
    FakeSink s(u"u"_qs);
    q.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs)}));
    q.activate(tableSub(&s, table(100, true)), {});
    q.markCaughtUp();
    QVERIFY(q.isReady()); // nothing subscribed was in the batch: no question was asked
    QCOMPARE(s.ids(), QList<int>{});
}

void TestPipeline::sinceOlderThanTheSlotIsTooOld()
{
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.slotStartedAt(5000);
    p.markCaughtUp();
    FakeSink a(u"u"_qs);
    p.activate(tableSub(&a, table(100, false), u"old"_qs, {}, EventCursor{4000, 3}), u"ref-1"_qs);
    QCOMPARE(a.ended.size(), 1);
    QCOMPARE(a.ended.first().value(u"code"_qs).toString(), u"cursor_too_old"_qs);
    QCOMPARE(a.ended.first().value(u"ref"_qs).toString(), u"ref-1"_qs); // the answer to that subscribe
    QCOMPARE(a.ended.first().value(u"id"_qs).toString(), u"old"_qs);
    p.activate(tableSub(&a, table(100, false), u"ok"_qs, {}, EventCursor{5000, 0}), {});
    QCOMPARE(a.ended.size(), 1);
}

void TestPipeline::confirmNeverPassesWhatIsHeld()
{
    // Defect 15: a transaction bigger than the window, still in the pipeline, must not be
    // confirmed; with nothing held the server's end of WAL is.
    ReplayWindow::Limits tiny;
    tiny.maxEvents = 0;
    FakeChecker checker;
    checker.defer = true;
    Pipeline p(tiny, limits(), &checker);
    p.markCaughtUp();
    QCOMPARE(p.confirmPosition(7777), 7777u);
    FakeSink a(u"alice"_qs);
    p.activate(tableSub(&a, table(100, true)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"alice"_qs), change(Op::Insert, 100, 2, u"alice"_qs)}));
    p.append(tx(2000, {change(Op::Insert, 100, 3, u"alice"_qs)}));
    p.trimWindow(QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(p.confirmPosition(99999), 1000u); // the batch waits for its check
    while (checker.release()) {}
    QCOMPARE(a.ids(), (QList<int>{1, 2, 3}));
    QCOMPARE(p.confirmPosition(99999), 99999u);
}

void TestPipeline::failedChecksAreRetriedNeverSkipped_data()
{
    QTest::addColumn<int>("unavailable");
    QTest::addColumn<int>("notVisible");
    QTest::newRow("PostgreSQL away three times") << 3 << 0;
    QTest::newRow("commit not visible yet five times") << 0 << 5;
}

void TestPipeline::failedChecksAreRetriedNeverSkipped()
{
    // Defect 7: a check that cannot complete (not visible after 2 s, a restart) dropped
    // the rows for good. Now the batch waits and asks again; nothing after it goes first.
    QFETCH(int, unavailable);
    QFETCH(int, notVisible);
    FakeChecker checker;
    checker.unavailable = unavailable;
    checker.notVisible = notVisible;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink a(u"alice"_qs);
    p.activate(tableSub(&a, table(100, true)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"alice"_qs)}));
    p.append(tx(2000, {change(Op::Insert, 100, 2, u"alice"_qs)}));
    QCOMPARE(a.ids(), QList<int>{});
    QVERIFY(p.confirmPosition(99999) <= 1000);
    QTRY_COMPARE_WITH_TIMEOUT(a.ids(), (QList<int>{1, 2}), 5000);
    QCOMPARE(p.stats().checkRetries, qint64(unavailable + notVisible));
    QCOMPARE(p.failingForMs(), 0);
}

void TestPipeline::failingIdentityEndsOnlyItself()
{
    // Defect 1: a check that fails for one identity's claims must neither withhold rows
    // from others silently nor from that identity without telling it.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink good(u"alice"_qs), bad(u"not-a-uuid"_qs);
    checker.failing.insert(bad.identity().key());
    p.activate(tableSub(&good, table(100, true)), {});
    p.activate(tableSub(&bad, table(100, true)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"alice"_qs), change(Op::Insert, 100, 2, u"not-a-uuid"_qs)}));
    QCOMPARE(good.ids(), QList<int>{1});
    QCOMPARE(bad.ids(), QList<int>{});
    QCOMPARE(bad.ended.size(), 1);
    QCOMPARE(bad.ended.first().value(u"code"_qs).toString(), u"check_failed"_qs);
    QVERIFY(bad.ended.first().value(u"message"_qs).toString().contains(u"uuid"_qs));
    p.append(tx(2000, {change(Op::Insert, 100, 3, u"alice"_qs)}));
    QCOMPARE(good.ids(), (QList<int>{1, 3}));
    QCOMPARE(p.subscriptionCount(), 1);
}

void TestPipeline::rowImageIsJudgedNotTheRowNow()
{
    // Defect 4: the version in the event is judged. A row written as Bob's then handed to
    // Alice in one transaction: Alice gets only her version, also when replaying.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink alice(u"alice"_qs), bob(u"bob"_qs);
    p.activate(tableSub(&alice, table(100, true)), {});
    p.activate(tableSub(&bob, table(100, true)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"bob"_qs, u"bob's secret"_qs), change(Op::Update, 100, 1, u"alice"_qs, u"now alice's"_qs)}));
    QCOMPARE(alice.of(u"change"_qs).size(), 1);
    QCOMPARE(alice.of(u"change"_qs).first().value(u"op"_qs).toString(), u"update"_qs);
    QCOMPARE(alice.of(u"change"_qs).first().value(u"record"_qs).toObject().value(u"body"_qs).toString(), u"now alice's"_qs);
    QCOMPARE(bob.of(u"change"_qs).size(), 1);
    QCOMPARE(bob.of(u"change"_qs).first().value(u"op"_qs).toString(), u"insert"_qs);
    // Replay judges each version again.
    FakeSink later(u"alice"_qs);
    p.activate(tableSub(&later, table(100, true), u"r"_qs, {}, EventCursor{999, 0}), {});
    QTRY_COMPARE_WITH_TIMEOUT(later.of(u"change"_qs).size(), 1, 2000);
    QCOMPARE(later.of(u"change"_qs).first().value(u"op"_qs).toString(), u"update"_qs);
}

void TestPipeline::deletesOnRlsTables()
{
    // Defect 5: with the whole old row (REPLICA IDENTITY FULL) a delete reaches only those
    // who could see it, so filters on old rows are no oracle; with only the key it
    // carries the key to every subscriber and filters judge the key alone.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink alice(u"alice"_qs);
    p.activate(tableSub(&alice, table(100, true), u"probe"_qs, u"body=eq.bob's secret"_qs), {});
    p.activate(tableSub(&alice, table(100, true), u"key"_qs, u"id=eq.7&body=eq.whatever"_qs), {});
    PgEvent keyOnly = change(Op::Delete, 100, 7, {}, {});
    keyOnly.oldTuple = {{u"id"_qs, 7}};
    p.append(tx(1000, {change(Op::Delete, 100, 5, u"bob"_qs, u"bob's secret"_qs), keyOnly}));
    // Bob's deleted row reaches neither subscription; the key-only delete reaches both
    // (the non-key filter of "probe" cannot judge it), as the key and nothing more.
    QCOMPARE(alice.ids(), (QList<int>{7, 7}));
    for (const auto &c : alice.of(u"change"_qs))
        QCOMPARE(c.value(u"old_record"_qs).toObject(), (QJsonObject{{u"id"_qs, 7}}));
}

void TestPipeline::batchesAcrossTransactionsAndIdentities()
{
    // Defect 19: one question per transaction and identity cannot keep up. Transactions
    // that queue up behind a check are judged together: one round trip for all of them
    // and every identity.
    FakeChecker checker;
    checker.defer = true;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    std::vector<std::unique_ptr<FakeSink>> sinks;
    for (int u = 0; u < 100; ++u) {
        sinks.push_back(std::make_unique<FakeSink>(u"user%1"_qs.arg(u)));
        p.activate(tableSub(sinks.back().get(), table(100, true), u"s"_qs, u"owner=eq.user%1"_qs.arg(u)), {});
    }
    p.append(tx(1, {change(Op::Insert, 100, 0, u"user0"_qs)})); // first batch: in flight
    for (int t = 1; t <= 1000; ++t)
        p.append(tx(quint64(t + 1) * 16, {change(Op::Insert, 100, t, u"user%1"_qs.arg(t % 100))}));
    while (checker.release()) {}
    int delivered = 0;
    for (const auto &s : sinks)
        delivered += s->ids().size();
    QCOMPARE(delivered, 1001);
    QCOMPARE(sinks[0]->ids().first(), 0);
    QVERIFY2(checker.requests <= 4, qPrintable(QString::number(checker.requests))); // 1,001 transactions x 100 identities
}

void TestPipeline::filterBeforeRls()
{
    // Defect 19 / the benchmark: the subscription's filter runs before the RLS question,
    // so PostgreSQL judges only rows the subscriber would receive.
    for (const bool first : {true, false}) {
        FakeChecker checker;
        Pipeline::Limits l = limits();
        l.filterBeforeRls = first;
        Pipeline p({}, l, &checker);
        p.markCaughtUp();
        std::vector<std::unique_ptr<FakeSink>> sinks;
        for (int u = 0; u < 10; ++u) {
            sinks.push_back(std::make_unique<FakeSink>(u"user%1"_qs.arg(u)));
            p.activate(tableSub(sinks.back().get(), table(100, true), u"s"_qs, u"owner=eq.user%1"_qs.arg(u)), {});
        }
        std::vector<PgEvent> rows;
        for (int i = 0; i < 100; ++i)
            rows.push_back(change(Op::Insert, 100, i, u"user%1"_qs.arg(i % 10)));
        p.append(tx(1000, std::move(rows)));
        for (const auto &s : sinks)
            QCOMPARE(s->ids().size(), 10);
        QCOMPARE(checker.images, first ? 100 : 1000);
    }
}

void TestPipeline::tableChangeIsNoticed()
{
    // Defect 2: table facts were cached forever. RLS switched on in the same transaction
    // as an insert: the probe of that batch sees the new fingerprint, the table is read
    // again, and the batch is judged under RLS.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink alice(u"alice"_qs);
    p.activate(tableSub(&alice, table(100, false)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"bob"_qs)}));
    QCOMPARE(alice.ids(), QList<int>{1}); // no RLS: public
    checker.fingerprints.insert(100, u"rls on"_qs);
    TableInfo now = table(100, true);
    now.fingerprint = u"rls on"_qs;
    checker.reloaded.insert(100, now);
    p.append(tx(2000, {change(Op::Insert, 100, 2, u"bob"_qs), change(Op::Insert, 100, 3, u"alice"_qs)}));
    QCOMPARE(alice.ids(), (QList<int>{1, 3}));
    QCOMPARE(checker.reloads, 1);
    QCOMPARE(p.stats().tableReloads, 1);
    // A column the filter names is dropped: the subscription ends and says why.
    FakeSink f(u"alice"_qs);
    p.activate(tableSub(&f, table(100, true), u"f"_qs, u"body=eq.x"_qs), {});
    TableInfo dropped = now;
    dropped.columnOrder.removeAll(u"body"_qs);
    dropped.columns.remove(u"body"_qs);
    dropped.fingerprint = u"no body"_qs;
    checker.fingerprints.insert(100, dropped.fingerprint);
    checker.reloaded.insert(100, dropped);
    p.append(tx(3000, {change(Op::Insert, 100, 4, u"alice"_qs)}));
    QCOMPARE(f.ended.size(), 1);
    QCOMPARE(f.ended.first().value(u"code"_qs).toString(), u"invalid_filter"_qs);
    QCOMPARE(alice.ids(), (QList<int>{1, 3, 4}));
}

void TestPipeline::droppedTableEndsSubscriptions()
{
    // Defect 2: DROP + CREATE of a same-named table: the old OID sends nothing more, the
    // regular probe finds it gone.
    FakeChecker checker;
    Pipeline::Limits l = limits();
    l.probeIntervalMs = 100;
    Pipeline p({}, l, &checker);
    p.markCaughtUp();
    FakeSink a(u"u"_qs);
    p.activate(tableSub(&a, table(100, false)), {});
    checker.gone.insert(100);
    QTRY_COMPARE_WITH_TIMEOUT(a.ended.size(), 1, 3000);
    QCOMPARE(a.ended.first().value(u"code"_qs).toString(), u"unknown_table"_qs);
    QCOMPARE(p.subscriptionCount(), 0);
}

void TestPipeline::lostPrivilegeEndsSubscriptions()
{
    // Reach never beyond PostgREST's: REVOKE SELECT after subscribing ends it.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink a(u"u"_qs, u"app_user"_qs), b(u"v"_qs, u"admin"_qs);
    p.activate(tableSub(&a, table(100, false)), {});
    p.activate(tableSub(&b, table(100, false)), {});
    checker.denied.insert(CheckReply::privilegeKey(u"app_user"_qs, 100));
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs)}));
    QCOMPARE(a.ids(), QList<int>{});
    QCOMPARE(a.ended.value(0).value(u"code"_qs).toString(), u"forbidden"_qs);
    QCOMPARE(b.ids(), QList<int>{1});
}

void TestPipeline::lostHistoryEndsEverySubscription()
{
    // Defect 9: a recreated slot was announced without a subscription id and the
    // subscriptions stayed live. Each gets cursor_too_old with its id and ends.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink a(u"u"_qs);
    p.activate(tableSub(&a, table(100, false), u"one"_qs), {});
    p.activate(Subscription::forChannel([] { ClientMessage m; m.id = u"two"_qs; m.isChannel = true; m.channel = u"c"_qs; return m; }(), &a), {});
    p.historyLost(5000);
    QCOMPARE(a.ended.size(), 2);
    QSet<QString> ids;
    for (const auto &e : a.ended) {
        QCOMPARE(e.value(u"code"_qs).toString(), u"cursor_too_old"_qs);
        ids.insert(e.value(u"id"_qs).toString());
    }
    QCOMPARE(ids, (QSet<QString>{u"one"_qs, u"two"_qs}));
    QCOMPARE(p.subscriptionCount(), 0);
    FakeSink b(u"u"_qs);
    p.activate(tableSub(&b, table(100, false), u"s"_qs, {}, EventCursor{4000, 0}), {});
    QCOMPARE(b.ended.value(0).value(u"code"_qs).toString(), u"cursor_too_old"_qs);
}

void TestPipeline::undecodableDocumentStalls()
{
    // Defect 8: an undecodable document was dropped. Delivery stops before its
    // transaction, is never confirmed past it, and every subscriber is told.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink a(u"u"_qs);
    p.activate(tableSub(&a, table(100, false)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"u"_qs)}));
    p.stall(Error::validation(u"malformed pg_events document"_qs), 2000);
    QVERIFY(p.isStalled());
    QCOMPARE(a.ids(), QList<int>{1});
    QCOMPARE(a.ended.value(0).value(u"code"_qs).toString(), u"stream_error"_qs);
    QVERIFY(p.confirmPosition(99999) <= 2000);
    FakeSink b(u"u"_qs);
    p.activate(tableSub(&b, table(100, false)), {});
    QCOMPARE(b.ended.value(0).value(u"code"_qs).toString(), u"stream_error"_qs);
}

void TestPipeline::backpressureAndChunks()
{
    // Defect 11: a transaction is no longer held whole, and a full pipeline pauses the
    // replication stream instead of growing.
    FakeChecker checker;
    checker.defer = true;
    Pipeline::Limits l = limits();
    l.queueBytes = 1000; // ten events of 100 bytes
    l.batchEvents = 5;
    ReplayWindow::Limits w;
    w.maxEvents = 3; // smaller than the transaction
    Pipeline p(w, l, &checker);
    p.markCaughtUp();
    QSignalSpy flow(&p, &Pipeline::flowControl);
    FakeSink a(u"alice"_qs);
    p.activate(tableSub(&a, table(100, true)), {});
    quint32 seq = 0;
    for (int chunk = 0; chunk < 10; ++chunk) {
        std::vector<PgEvent> rows;
        for (int i = 0; i < 5; ++i)
            rows.push_back(change(Op::Insert, 100, chunk * 5 + i, u"alice"_qs));
        p.append(tx(1000, std::move(rows), seq, chunk == 0, chunk == 9));
        seq += 5;
    }
    QCOMPARE(flow.count(), 1);
    QCOMPARE(flow.first().first().toBool(), true);
    QVERIFY(p.isPaused());
    QVERIFY(p.confirmPosition(99999) <= 1000);
    while (checker.release()) {}
    QCOMPARE(flow.last().first().toBool(), false);
    QCOMPARE(a.ids().size(), 50);
    QCOMPARE(a.ids().first(), 0);
    QCOMPARE(a.ids().last(), 49);
    QVERIFY(p.window().size() <= 5);
}

void TestPipeline::replayThenBufferedLive()
{
    // A replay under RLS takes a round trip; live changes meanwhile are held and follow
    // it, in order, none twice.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink writer(u"alice"_qs);
    p.activate(tableSub(&writer, table(100, true)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"alice"_qs), change(Op::Insert, 100, 2, u"bob"_qs)}));
    p.append(tx(2000, {change(Op::Insert, 100, 3, u"alice"_qs)}));
    checker.defer = true;
    FakeSink late(u"alice"_qs);
    p.activate(tableSub(&late, table(100, true), u"r"_qs, {}, EventCursor{1000, 0}), {});
    QCOMPARE(checker.pending(), 1); // the replay's question
    p.append(tx(3000, {change(Op::Insert, 100, 4, u"alice"_qs)}));
    while (checker.release())
        QCoreApplication::processEvents();
    QTRY_COMPARE_WITH_TIMEOUT(late.ids(), (QList<int>{3, 4}), 2000);
    QCOMPARE(checker.replayRequests, 1);
}

void TestPipeline::subscriptionDuringABatch()
{
    // `subscribed` means live: a subscription that starts while a batch is being checked
    // gets that batch too (asked about in a second round).
    FakeChecker checker;
    checker.defer = true;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink alice(u"alice"_qs), carol(u"carol"_qs);
    p.activate(tableSub(&alice, table(100, true)), {});
    p.append(tx(1000, {change(Op::Insert, 100, 1, u"alice"_qs), change(Op::Insert, 100, 2, u"carol"_qs)}));
    QCOMPARE(checker.pending(), 1);
    p.activate(tableSub(&carol, table(100, true)), {});
    const QString head = carol.of(u"subscribed"_qs).value(0).value(u"cursor"_qs).toString();
    QVERIFY(head < (EventCursor{1000, 0}.toString()));
    while (checker.release()) {}
    QCOMPARE(alice.ids(), QList<int>{1});
    QCOMPARE(carol.ids(), QList<int>{2});
    QCOMPARE(checker.requests, 2);
}

void TestPipeline::unchangedToastUnderRls()
{
    // Defect 10: an unchanged TOAST value is not in the event. Taken from the old row when
    // the replica identity has it; otherwise forwarded as `unchanged_toast`, and a policy
    // that reads it cannot judge the row: the subscriber is told, never shown.
    FakeChecker checker;
    Pipeline p({}, limits(), &checker);
    p.markCaughtUp();
    FakeSink pub(u"alice"_qs), rls(u"alice"_qs);
    p.activate(tableSub(&pub, table(100, false)), {});
    TableInfo policyOnBody = table(200, true);
    policyOnBody.policyColumns = {u"body"_qs};
    p.activate(tableSub(&rls, policyOnBody), {});
    PgEvent missing = change(Op::Update, 100, 1, u"alice"_qs);
    missing.newTuple.remove(u"body"_qs);
    missing.unchangedToast = {u"body"_qs};
    PgEvent filled = missing;
    filled.oldTuple = {{u"id"_qs, 1}, {u"owner"_qs, u"alice"_qs}, {u"body"_qs, u"long text"_qs}};
    filled.hasOld = true;
    PgEvent onRls = missing;
    onRls.relid = 200;
    p.append(tx(1000, {missing, filled, onRls}));
    const auto changes = pub.of(u"change"_qs);
    QCOMPARE(changes.size(), 2);
    QCOMPARE(changes[0].value(u"unchanged_toast"_qs).toArray(), QJsonArray{u"body"_qs});
    QVERIFY(!changes[0].value(u"record"_qs).toObject().contains(u"body"_qs));
    QVERIFY(!changes[1].contains(u"unchanged_toast"_qs));
    QCOMPARE(changes[1].value(u"record"_qs).toObject().value(u"body"_qs).toString(), u"long text"_qs);
    QCOMPARE(rls.of(u"change"_qs).size(), 0);
    QCOMPARE(rls.of(u"error"_qs).value(0).value(u"code"_qs).toString(), u"row_withheld"_qs);
    QCOMPARE(p.stats().rowsWithheld, 1);
}

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
