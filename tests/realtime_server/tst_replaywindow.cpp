#include "replaywindow.h"

#include <QTest>

using namespace Core;
using namespace Realtime;

// The replay window alone: what it keeps, what it gives up, and which cursors it can
// still serve without a gap.
class TestReplayWindow : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eviction_data();
    void eviction();
    void sinceInsideAndOutside_data();
    void sinceInsideAndOutside();
    void resetForgetsEverything();
};

static WindowEntryPtr entry(quint64 txLsn, quint32 seq, qint64 receivedMs, qint64 bytes = 10)
{
    PgEvent e;
    e.op = PgEvent::Op::Insert;
    e.lsn = txLsn;
    e.seq = seq;
    e.newTuple = {{u"id"_qs, int(seq)}};
    return WindowEntry::make(e, {}, txLsn, receivedMs, bytes);
}

// Three transactions: 100 (2 events), 200 (3 events), 300 (1 event), received at 0, 10, 20 ms.
static ReplayWindow filled(ReplayWindow::Limits limits)
{
    ReplayWindow w(limits);
    w.append(entry(100, 0, 0));
    w.append(entry(100, 1, 0));
    for (quint32 s = 0; s < 3; ++s)
        w.append(entry(200, s, 10));
    w.append(entry(300, 0, 20));
    return w;
}

void TestReplayWindow::eviction_data()
{
    QTest::addColumn<int>("maxEvents");
    QTest::addColumn<qint64>("maxBytes");
    QTest::addColumn<qint64>("maxAgeMs");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<int>("left");
    QTest::addColumn<quint64>("oldest");
    QTest::addColumn<QString>("horizon");
    QTest::newRow("all fit") << 10 << qint64(1000) << qint64(1000) << qint64(20) << 6 << quint64(100) << EventCursor{}.toString();
    // Whole transactions go: 5 events allowed, but 100 has two, so both go.
    QTest::newRow("by count, whole transactions") << 5 << qint64(1000) << qint64(1000) << qint64(20) << 4 << quint64(200)
                                                  << EventCursor{100, 1}.toString();
    QTest::newRow("by count, more than one") << 1 << qint64(1000) << qint64(1000) << qint64(20) << 1 << quint64(300)
                                             << EventCursor{200, 2}.toString();
    QTest::newRow("by bytes") << 10 << qint64(35) << qint64(1000) << qint64(20) << 1 << quint64(300) << EventCursor{200, 2}.toString();
    QTest::newRow("by age") << 10 << qint64(1000) << qint64(15) << qint64(30) << 1 << quint64(300) << EventCursor{200, 2}.toString();
    QTest::newRow("nothing kept") << 0 << qint64(1000) << qint64(1000) << qint64(20) << 0 << quint64(0) << EventCursor{300, 0}.toString();
}

void TestReplayWindow::eviction()
{
    QFETCH(int, maxEvents);
    QFETCH(qint64, maxBytes);
    QFETCH(qint64, maxAgeMs);
    QFETCH(qint64, now);
    QFETCH(int, left);
    QFETCH(quint64, oldest);
    QFETCH(QString, horizon);
    ReplayWindow w = filled({maxEvents, maxBytes, maxAgeMs});
    w.trim(now);
    QCOMPARE(w.size(), left);
    QCOMPARE(w.oldestTransactionLsn(), oldest);
    QCOMPARE(w.horizon().toString(), horizon);
    QCOMPARE(w.bytes(), qint64(left * 10));
}

void TestReplayWindow::sinceInsideAndOutside_data()
{
    QTest::addColumn<QString>("since");
    QTest::addColumn<bool>("served");
    QTest::addColumn<int>("after");
    // Window trimmed to transactions 200 and 300 (horizon = 100.1).
    QTest::newRow("the last evicted event") << EventCursor{100, 1}.toString() << true << 4;
    QTest::newRow("before the horizon") << EventCursor{100, 0}.toString() << false << 0;
    QTest::newRow("long ago") << EventCursor{1, 0}.toString() << false << 0;
    QTest::newRow("inside a transaction") << EventCursor{200, 1}.toString() << true << 2;
    QTest::newRow("the newest event") << EventCursor{300, 0}.toString() << true << 0;
    QTest::newRow("from the future") << EventCursor{900, 0}.toString() << true << 0;
}

void TestReplayWindow::sinceInsideAndOutside()
{
    QFETCH(QString, since);
    QFETCH(bool, served);
    QFETCH(int, after);
    ReplayWindow w = filled({5, 1000, 1000});
    w.trim(20);
    const auto cursor = EventCursor::parse(since);
    QVERIFY(cursor);
    QCOMPARE(w.canServe(*cursor), served);
    if (served) {
        const auto entries = w.after(*cursor);
        QCOMPARE(int(entries.size()), after);
        for (const auto &e : entries)
            QVERIFY(*cursor < e->cursor());
    }
}

void TestReplayWindow::resetForgetsEverything()
{
    ReplayWindow w = filled({10, 1000, 1000});
    w.reset({5000, 0});
    QVERIFY(w.isEmpty());
    QCOMPARE(w.bytes(), 0);
    QVERIFY(!w.canServe({300, 0}));
    QVERIFY(w.canServe({5000, 0}));
    // A horizon never moves back.
    w.setHorizon({10, 0});
    QCOMPARE(w.horizon(), (EventCursor{5000, 0}));
}

QTEST_APPLESS_MAIN(TestReplayWindow)
#include "tst_replaywindow.moc"
