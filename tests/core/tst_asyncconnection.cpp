#include "asyncconnection.h"
#include "testcluster.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

using namespace Core;

class TestAsyncConnection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void connectAndQuery();
    void multiStatementAndErrors();
    void queueKeepsOrder();
    void eventLoopStaysLive();
    void cancel();
    void notifications();
    void connectFailure();
};

static void openOrFail(AsyncConnection &c, const QString &conninfo)
{
    QSignalSpy ok(&c, &AsyncConnection::connected);
    c.open(conninfo);
    QVERIFY(ok.wait(10000));
    QCOMPARE(c.state(), AsyncConnection::State::Ready);
}

void TestAsyncConnection::connectAndQuery()
{
    AsyncConnection c;
    openOrFail(c, TestCluster::instance().conninfo());
    bool done = false;
    c.query(u"SELECT $1::int * 2"_qs, {u"21"_qs}, [&](AsyncReply &reply) {
        QVERIFY(!reply.error);
        QCOMPARE(reply.results.size(), size_t(1));
        QCOMPARE(reply.results[0].value(0, 0), u"42"_qs);
        done = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
}

void TestAsyncConnection::multiStatementAndErrors()
{
    AsyncConnection c;
    openOrFail(c, TestCluster::instance().conninfo());
    bool done = false;
    c.query(u"SELECT 1; SELECT 2, 3; SELECT nope; SELECT 4"_qs, [&](AsyncReply &reply) {
        QCOMPARE(reply.results.size(), size_t(2)); // results before the error survive
        QCOMPARE(reply.results[1].columns(), 2);
        QVERIFY(reply.error.has_value());
        QCOMPARE(reply.error->sqlState, u"42703"_qs);
        QCOMPARE(reply.error->position, 31); // counted from the start of the whole batch
        done = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
    // Still usable.
    bool again = false;
    c.query(u"SELECT 'ok'"_qs, [&](AsyncReply &reply) { again = !reply.error && reply.results[0].value(0, 0) == u"ok"_qs; });
    QTRY_VERIFY_WITH_TIMEOUT(again, 5000);
}

void TestAsyncConnection::queueKeepsOrder()
{
    AsyncConnection c;
    c.open(TestCluster::instance().conninfo()); // queries queued before the connection is up
    QList<int> order;
    for (int i = 0; i < 20; ++i)
        c.query(u"SELECT $1::int"_qs, {QString::number(i)}, [&order](AsyncReply &r) { order << r.results[0].value(0, 0).toInt(); });
    QCOMPARE(c.pendingQueries(), 20);
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), 20, 10000);
    for (int i = 0; i < 20; ++i)
        QCOMPARE(order[i], i);
}

void TestAsyncConnection::eventLoopStaysLive()
{
    AsyncConnection c;
    openOrFail(c, TestCluster::instance().conninfo());
    int ticks = 0;
    QTimer timer;
    connect(&timer, &QTimer::timeout, this, [&ticks] { ++ticks; });
    timer.start(20);
    bool done = false;
    QElapsedTimer t;
    t.start();
    c.query(u"SELECT pg_sleep(0.6)"_qs, [&](AsyncReply &) { done = true; });
    QCOMPARE(c.state(), AsyncConnection::State::Busy);
    QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
    QVERIFY(t.elapsed() >= 550);
    // A blocked thread would have produced no ticks while the server slept.
    QVERIFY2(ticks >= 10, qPrintable(QString::number(ticks)));
}

void TestAsyncConnection::cancel()
{
    AsyncConnection c;
    openOrFail(c, TestCluster::instance().conninfo());
    bool done = false;
    bool cancelled = false;
    QElapsedTimer t;
    t.start();
    c.query(u"SELECT pg_sleep(30)"_qs, [&](AsyncReply &reply) {
        done = true;
        cancelled = reply.cancelled;
        QVERIFY(reply.error.has_value());
        QCOMPARE(reply.error->sqlState, u"57014"_qs);
    });
    QTimer::singleShot(200, &c, [&c] { c.cancel(); });
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    QVERIFY(cancelled);
    QVERIFY(t.elapsed() < 10000);
}

void TestAsyncConnection::notifications()
{
    AsyncConnection listener;
    openOrFail(listener, TestCluster::instance().conninfo());
    QSignalSpy spy(&listener, &AsyncConnection::notification);
    bool listening = false;
    listener.query(u"LISTEN pgext_test"_qs, [&](AsyncReply &r) { listening = !r.error; });
    QTRY_VERIFY_WITH_TIMEOUT(listening, 5000);
    auto other = TestCluster::instance().connect();
    QVERIFY(other.exec(u"NOTIFY pgext_test, 'hello'"_qs).ok());
    QVERIFY(spy.wait(5000));
    QCOMPARE(spy.at(0).at(0).toString(), u"pgext_test"_qs);
    QCOMPARE(spy.at(0).at(1).toString(), u"hello"_qs);
}

void TestAsyncConnection::connectFailure()
{
    AsyncConnection c;
    QSignalSpy failed(&c, &AsyncConnection::connectionFailed);
    bool replied = false;
    c.query(u"SELECT 1"_qs, [&](AsyncReply &r) { replied = r.error.has_value(); });
    c.open(u"host=127.0.0.1 port=1 dbname=x"_qs);
    QVERIFY(failed.count() == 1 || failed.wait(10000));
    QCOMPARE(c.state(), AsyncConnection::State::Disconnected);
    QVERIFY(replied); // queued work is failed, never left hanging
}

QTEST_GUILESS_MAIN(TestAsyncConnection)
#include "tst_asyncconnection.moc"
