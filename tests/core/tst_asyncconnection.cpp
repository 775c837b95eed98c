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
    void pipelineSegments();
    void rollbackLeftovers();
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

void TestAsyncConnection::pipelineSegments()
{
    // One round trip, three segments: the failure in the second aborts only the rest of
    // that segment; set_config(..., true) lasts until its segment's sync.
    AsyncConnection c;
    openOrFail(c, TestCluster::instance().conninfo());
    std::optional<PipelineReply> got;
    c.pipeline({{u"SELECT set_config('app.x', $1, true)"_qs, {u"one"_qs}},
                {u"SELECT current_setting('app.x')"_qs, {}, true},
                {u"SELECT 1 / $1::int"_qs, {u"0"_qs}},
                {u"SELECT 'never'"_qs, {}, true},
                {u"SELECT current_setting('app.x', true)"_qs, {}}},
               [&](PipelineReply &reply) { got = std::move(reply); });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 5000);
    QVERIFY(!got->error);
    QCOMPARE(got->statements.size(), size_t(5));
    QCOMPARE(got->statements[1].result->value(0, 0), u"one"_qs);
    QCOMPARE(got->statements[2].error->sqlState, u"22012"_qs);
    QVERIFY(got->statements[3].aborted);
    QVERIFY(!got->statements[3].result);
    QVERIFY(got->statements[4].result.has_value());
    QCOMPARE(got->statements[4].result->value(0, 0), QString()); // the setting ended with its segment
    // The connection is idle and healthy afterwards; plain queries and empty pipelines work.
    bool done = false;
    c.query(u"SELECT 7"_qs, [&](AsyncReply &reply) {
        QVERIFY(!reply.error);
        QCOMPARE(reply.results[0].value(0, 0), u"7"_qs);
        done = true;
    });
    bool empty = false;
    c.pipeline({}, [&](PipelineReply &reply) { empty = reply.statements.empty() && !reply.error; });
    QTRY_VERIFY_WITH_TIMEOUT(done && empty, 5000);
}

void TestAsyncConnection::rollbackLeftovers()
{
    // Defect 1 of the realtime issue: "BEGIN; ...; failing statement; COMMIT" as one
    // query left the session in an aborted transaction and every later query failed.
    for (const bool hygiene : {false, true}) {
        AsyncConnection c;
        c.setRollbackLeftovers(hygiene);
        openOrFail(c, TestCluster::instance().conninfo());
        bool first = false, second = false;
        std::optional<Error> secondError;
        c.query(u"BEGIN; SELECT 1 / 0; COMMIT"_qs, [&](AsyncReply &reply) {
            QVERIFY(reply.error);
            first = true;
        });
        c.query(u"SELECT 1"_qs, [&](AsyncReply &reply) {
            secondError = reply.error;
            second = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(first && second, 5000);
        if (hygiene)
            QVERIFY2(!secondError, qPrintable(secondError ? secondError->message : QString()));
        else
            QCOMPARE(secondError->sqlState, u"25P02"_qs); // what the authorizer suffered
    }
}

QTEST_GUILESS_MAIN(TestAsyncConnection)
#include "tst_asyncconnection.moc"
