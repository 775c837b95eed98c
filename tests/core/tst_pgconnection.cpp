#include "pgconnection.h"
#include "testcluster.h"

#include <QTest>

using namespace Core;

class TestPgConnection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void queryAndParams();
    void errorCarriesDiagnostics_data();
    void errorCarriesDiagnostics();
    void quoting_data();
    void quoting();
    void connectionFailure();

private:
    PgConnection m_conn;
};

void TestPgConnection::initTestCase()
{
    m_conn = TestCluster::instance().connect();
}

void TestPgConnection::queryAndParams()
{
    auto r = m_conn.exec(u"SELECT $1::int + 1 AS n, $2::text IS NULL AS isnull, 'ü'::text AS u"_qs, {u"41"_qs, QString()});
    QVERIFY(r.ok());
    QCOMPARE(r->rows(), 1);
    QCOMPARE(r->columnName(0), u"n"_qs);
    QCOMPARE(r->value(0, 0), u"42"_qs);
    QCOMPARE(r->value(0, "isnull"), u"t"_qs);
    QCOMPARE(r->value(0, 2), u"ü"_qs);
    auto multi = m_conn.exec(u"CREATE TEMP TABLE tmp_a(x int); INSERT INTO tmp_a VALUES (1),(2)"_qs);
    QVERIFY(multi.ok());
    QCOMPARE(multi->commandTuples(), u"2"_qs);
}

void TestPgConnection::errorCarriesDiagnostics_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QString>("sqlstate");
    QTest::addColumn<int>("position");
    QTest::addColumn<bool>("hasDetail");
    QTest::addColumn<bool>("hasHint");
    QTest::newRow("syntax") << u"SELECT 1 +"_qs << u"42601"_qs << 11 << false << false;
    QTest::newRow("undefined column") << u"SELECT nope FROM pg_class"_qs << u"42703"_qs << 8 << false << false;
    QTest::newRow("function hint") << u"SELECT length(1, 2, 3)"_qs << u"42883"_qs << 8 << false << true;
    QTest::newRow("unique violation detail") << u"CREATE TEMP TABLE u(a int primary key); INSERT INTO u VALUES (1),(1)"_qs
                                             << u"23505"_qs << 0 << true << false;
    QTest::newRow("raise with hint") << u"DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'd', HINT = 'h', ERRCODE = 'P0042'; END $$"_qs
                                     << u"P0042"_qs << 0 << true << true;
}

void TestPgConnection::errorCarriesDiagnostics()
{
    QFETCH(QString, sql);
    QFETCH(QString, sqlstate);
    QFETCH(int, position);
    QFETCH(bool, hasDetail);
    QFETCH(bool, hasHint);
    auto r = m_conn.exec(sql);
    QVERIFY(!r.ok());
    const Error &e = r.error();
    QCOMPARE(e.kind, Error::Kind::Database);
    QCOMPARE(e.sqlState, sqlstate);
    QCOMPARE(e.position, position);
    QCOMPARE(!e.detail.isEmpty(), hasDetail);
    QCOMPARE(!e.hint.isEmpty(), hasHint);
    QVERIFY(!e.message.isEmpty());
    // The connection is usable afterwards.
    QVERIFY(m_conn.exec(u"SELECT 1"_qs).ok());
}

void TestPgConnection::quoting_data()
{
    QTest::addColumn<QString>("value");
    QTest::newRow("plain") << u"abc"_qs;
    QTest::newRow("quote") << u"it's"_qs;
    QTest::newRow("backslash") << u"a\\b'c"_qs;
    QTest::newRow("double quote") << u"x\"y"_qs;
    QTest::newRow("unicode") << u"Ünïcødé 😀"_qs;
}

void TestPgConnection::quoting()
{
    QFETCH(QString, value);
    auto r = m_conn.exec(u"SELECT %1::text AS %2"_qs.arg(PgConnection::quoteLiteral(value), PgConnection::quoteIdentifier(value)));
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().toString()));
    QCOMPARE(r->value(0, 0), value);
    QCOMPARE(r->columnName(0), value);
}

void TestPgConnection::connectionFailure()
{
    auto c = PgConnection::open(u"host=127.0.0.1 port=1 dbname=x connect_timeout=2"_qs);
    QVERIFY(!c.ok());
    QCOMPARE(c.error().kind, Error::Kind::Connection);
    QVERIFY(!c.error().hint.isEmpty());
    auto missing = PgConnection::open(TestCluster::instance().conninfo(u"no_such_db"_qs));
    QVERIFY(!missing.ok());
    QVERIFY(missing.error().message.contains(u"does not exist"_qs));
}

QTEST_GUILESS_MAIN(TestPgConnection)
#include "tst_pgconnection.moc"
