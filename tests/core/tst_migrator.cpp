#include "migrator.h"
#include "pgconnection.h"
#include "testcluster.h"
#include "testproject.h"

#include <QTest>

#include <atomic>
#include <thread>

using namespace Core;

class TestMigrator : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void appliesInOrderAndRecordsHistory();
    void secondRunAppliesNothing();
    void repeatableReappliedWhenChanged();
    void lineEndingsDoNotCount();
    void brokenFileReportsLocation_data();
    void brokenFileReportsLocation();
    void noTransactionFile();
    void failedNoTransactionFileIsRecorded();
    void transactionControlRejected();
    void transactionControlBehindComments_data();
    void transactionControlBehindComments();
    void roleDoesNotLeakIntoTheNextFile();
    void changedAppliedFileIsAnError();
    void outOfOrder();
    void missingAppliedFile();
    void dryRunChangesNothing();
    void concurrentRunnersApplyOnce();
    void deployFunctionsOnly();
    void badFileName();
    void cancelBetweenFiles();

private:
    Result<Migrator::Report> migrate(const Migrator::Options &options = {});
    QString scalar(const QString &sql);
    std::unique_ptr<TestProject> m_project;
    QString m_db;
};

void TestMigrator::init()
{
    m_project = std::make_unique<TestProject>();
    m_db = TestCluster::instance().freshDatabase(u"mig"_qs);
}

Result<Migrator::Report> TestMigrator::migrate(const Migrator::Options &options)
{
    auto conn = TestCluster::instance().connect(m_db);
    const Project project = m_project->open();
    Migrator m(conn, project);
    return m.migrate(options);
}

QString TestMigrator::scalar(const QString &sql)
{
    auto conn = TestCluster::instance().connect(m_db);
    auto r = conn.exec(sql);
    if (!r)
        return u"ERROR: "_qs + r.error().message;
    return r->value(0, 0);
}

void TestMigrator::appliesInOrderAndRecordsHistory()
{
    m_project->write(u"schema.sql"_qs, u"CREATE TABLE items (id int PRIMARY KEY);\n"_qs);
    m_project->write(u"migrations/20260102000000_second.sql"_qs, u"INSERT INTO log VALUES ('second');"_qs);
    m_project->write(u"migrations/20260101000000_first.sql"_qs, u"CREATE TABLE log (what text);\nINSERT INTO log VALUES ('first');"_qs);
    m_project->write(u"functions/b/nested.sql"_qs, u"INSERT INTO log VALUES ('functions/b/nested.sql');"_qs);
    m_project->write(u"functions/a.sql"_qs, u"INSERT INTO log VALUES ('functions/a.sql');"_qs);
    auto r = migrate();
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().toString()));
    QCOMPARE(r->applied.size(), size_t(5));
    QCOMPARE(scalar(u"SELECT string_agg(what, ',' ORDER BY ctid) FROM log"_qs),
             u"first,second,functions/a.sql,functions/b/nested.sql"_qs);
    QCOMPARE(scalar(u"SELECT string_agg(script || ':' || kind || ':' || coalesce(version, '-'), ' ' ORDER BY installed_rank) "
                    "FROM pgext.schema_history"_qs),
             u"schema.sql:baseline:0 migrations/20260101000000_first.sql:versioned:20260101000000 "
             "migrations/20260102000000_second.sql:versioned:20260102000000 functions/a.sql:repeatable:- "
             "functions/b/nested.sql:repeatable:-"_qs);
    QCOMPARE(scalar(u"SELECT bool_and(success) AND bool_and(length(checksum) = 64) AND bool_and(applied_by = current_user) "
                    "AND bool_and(execution_ms >= 0) FROM pgext.schema_history"_qs), u"t"_qs);
    QCOMPARE(scalar(u"SELECT checksum FROM pgext.schema_history WHERE script = 'schema.sql'"_qs),
             MigrationFile::checksumOf(u"CREATE TABLE items (id int PRIMARY KEY);\n"_qs));
}

void TestMigrator::secondRunAppliesNothing()
{
    m_project->write(u"schema.sql"_qs, u"CREATE TABLE t (a int);"_qs);
    m_project->write(u"functions/f.sql"_qs, u"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"_qs);
    QVERIFY(migrate().ok());
    auto again = migrate();
    QVERIFY(again.ok());
    QCOMPARE(again->applied.size(), size_t(0));
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history"_qs), u"2"_qs);
}

void TestMigrator::repeatableReappliedWhenChanged()
{
    m_project->write(u"functions/f.sql"_qs, u"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"_qs);
    m_project->write(u"functions/g.sql"_qs, u"CREATE OR REPLACE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 7';"_qs);
    QVERIFY(migrate().ok());
    m_project->write(u"functions/f.sql"_qs, u"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2';"_qs);
    auto r = migrate();
    QVERIFY(r.ok());
    QCOMPARE(r->applied.size(), size_t(1));
    QCOMPARE(r->applied[0].path, u"functions/f.sql"_qs);
    QCOMPARE(scalar(u"SELECT f()"_qs), u"2"_qs);
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history WHERE script = 'functions/f.sql'"_qs), u"2"_qs);
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history WHERE script = 'functions/g.sql'"_qs), u"1"_qs);
}

void TestMigrator::lineEndingsDoNotCount()
{
    m_project->write(u"migrations/20260101000000_a.sql"_qs, QByteArray("CREATE TABLE a (x int);\nCREATE TABLE b (x int);\n"));
    QVERIFY(migrate().ok());
    m_project->write(u"migrations/20260101000000_a.sql"_qs, QByteArray("CREATE TABLE a (x int);\r\nCREATE TABLE b (x int);\r\n"));
    auto r = migrate();
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().toString()));
    QCOMPARE(r->applied.size(), size_t(0));
}

void TestMigrator::brokenFileReportsLocation_data()
{
    QTest::addColumn<QString>("content");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("sqlstate");

    QTest::newRow("syntax error") << u"CREATE TABLE early (a int);\n\nSELEC 1;\n"_qs << 3 << 1
                                  << u"syntax error at or near \"SELEC\""_qs << u"42601"_qs;
    QTest::newRow("undefined column mid-line") << u"CREATE TABLE early (a int);\nSELECT a,\n       nope FROM early;"_qs << 3 << 8
                                               << u"column \"nope\" does not exist"_qs << u"42703"_qs;
    QTest::newRow("after multibyte text") << u"CREATE TABLE early (a int);\nSELECT 'äöü😀', nope;"_qs << 2 << 16
                                          << u"column \"nope\" does not exist"_qs << u"42703"_qs;
    QTest::newRow("plpgsql body") << u"CREATE TABLE early (a int);\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\n  SELEC 2;\nEND $$;"_qs
                                  << 5 << 3 << u"syntax error at or near \"SELEC\""_qs << u"42601"_qs;
    QTest::newRow("runtime error without position") << u"CREATE TABLE early (a int primary key);\nINSERT INTO early VALUES (1);\n  INSERT INTO early VALUES (1);"_qs
                                                    << 3 << 3 << u"duplicate key value violates unique constraint \"early_pkey\""_qs << u"23505"_qs;
    QTest::newRow("deferred constraint at commit") << u"CREATE TABLE early (a int, CONSTRAINT u UNIQUE (a) DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO early VALUES (1), (1);"_qs
                                                   << 0 << 0 << u"duplicate key value violates unique constraint \"u\""_qs << u"23505"_qs;
}

void TestMigrator::brokenFileReportsLocation()
{
    QFETCH(QString, content);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, message);
    QFETCH(QString, sqlstate);
    m_project->write(u"migrations/20260101000000_ok.sql"_qs, u"CREATE TABLE ok (a int);"_qs);
    QVERIFY(migrate().ok());
    const QString historyBefore = scalar(u"SELECT count(*) || ':' || max(installed_rank) FROM pgext.schema_history"_qs);

    m_project->write(u"migrations/20260102000000_broken.sql"_qs, content);
    m_project->write(u"migrations/20260103000000_later.sql"_qs, u"CREATE TABLE later (a int);"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    const Error &e = r.error();
    QCOMPARE(e.file, u"migrations/20260102000000_broken.sql"_qs);
    QCOMPARE(e.message, message);
    QCOMPARE(e.sqlState, sqlstate);
    if (line) {
        QCOMPARE(e.line, line);
        QCOMPARE(e.column, column);
        QVERIFY(e.toString().startsWith(u"migrations/20260102000000_broken.sql:%1:%2: %3"_qs.arg(line).arg(column).arg(message)));
    }
    // Nothing of the file applied, history unchanged, later files not run.
    QCOMPARE(scalar(u"SELECT to_regclass('early') IS NULL"_qs), u"t"_qs);
    QCOMPARE(scalar(u"SELECT to_regclass('later') IS NULL"_qs), u"t"_qs);
    QCOMPARE(scalar(u"SELECT count(*) || ':' || max(installed_rank) FROM pgext.schema_history"_qs), historyBefore);

    // Fixing the file lets the run continue where it stopped.
    m_project->write(u"migrations/20260102000000_broken.sql"_qs, u"CREATE TABLE early (a int);"_qs);
    auto fixed = migrate();
    QVERIFY2(fixed.ok(), qPrintable(fixed.ok() ? QString() : fixed.error().toString()));
    QCOMPARE(fixed->applied.size(), size_t(2));
}

void TestMigrator::noTransactionFile()
{
    m_project->write(u"migrations/20260101000000_t.sql"_qs, u"CREATE TABLE t (a int);"_qs);
    m_project->write(u"migrations/20260102000000_idx.sql"_qs,
                     u"CREATE INDEX CONCURRENTLY t_a_idx ON t (a);"_qs);
    auto withoutMarker = migrate();
    QVERIFY(!withoutMarker.ok());
    QVERIFY2(withoutMarker.error().message.contains(u"cannot run inside a transaction block"_qs),
             qPrintable(withoutMarker.error().message));
    QCOMPARE(withoutMarker.error().line, 1);

    m_project->write(u"migrations/20260102000000_idx.sql"_qs,
                     u"-- pgext:no-transaction\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nCREATE INDEX CONCURRENTLY t_a2_idx ON t (a);\n"_qs);
    auto r = migrate();
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().toString()));
    QCOMPARE(scalar(u"SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND indisvalid"_qs), u"2"_qs);
    QCOMPARE(scalar(u"SELECT success FROM pgext.schema_history WHERE version = '20260102000000'"_qs), u"t"_qs);
}

void TestMigrator::failedNoTransactionFileIsRecorded()
{
    m_project->write(u"migrations/20260101000000_nt.sql"_qs,
                     u"-- pgext:no-transaction\nCREATE TABLE first_half (a int);\nSELECT nope;\n"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().line, 3);
    QVERIFY(r.error().detail.contains(u"without a transaction"_qs));
    // Statements before the failure stay (that is what no-transaction means) and the
    // attempt is in the history as failed, so status can say so.
    QCOMPARE(scalar(u"SELECT to_regclass('first_half') IS NOT NULL"_qs), u"t"_qs);
    QCOMPARE(scalar(u"SELECT success FROM pgext.schema_history"_qs), u"f"_qs);
    auto conn = TestCluster::instance().connect(m_db);
    const Project project = m_project->open();
    Migrator m(conn, project);
    auto plan = m.plan({});
    QVERIFY(plan.ok());
    QCOMPARE(plan->states.size(), size_t(1));
    QCOMPARE(plan->states[0].state, MigrationState::State::Failed);
    QCOMPARE(plan->toApply.size(), size_t(1));
}

void TestMigrator::transactionControlRejected()
{
    m_project->write(u"migrations/20260101000000_tx.sql"_qs, u"CREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE b (x int);"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.contains(u"transaction control"_qs));
    QCOMPARE(r.error().line, 2);
    QCOMPARE(scalar(u"SELECT to_regclass('a') IS NULL"_qs), u"t"_qs);
}

void TestMigrator::transactionControlBehindComments_data()
{
    // Defect 15 of the realtime issue: "COMMIT /* ATOMIC */" passed the check.
    QTest::addColumn<QString>("statement");
    QTest::newRow("comment naming ATOMIC") << u"COMMIT /* ATOMIC */"_qs;
    QTest::newRow("line comment before") << u"-- done\ncommit"_qs;
    QTest::newRow("nested block comment before") << u"/* a /* b */ c */ END"_qs;
    QTest::newRow("prepare transaction") << u"PREPARE TRANSACTION 'x'"_qs;
}

void TestMigrator::transactionControlBehindComments()
{
    QFETCH(QString, statement);
    m_project->write(u"migrations/20260101000000_tx.sql"_qs, u"CREATE TABLE a (x int);\n"_qs + statement + u";\nCREATE TABLE b (x int);"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(u"transaction control"_qs), qPrintable(r.error().message));
    QCOMPARE(scalar(u"SELECT to_regclass('a') IS NULL"_qs), u"t"_qs);
    // BEGIN ATOMIC inside a function body stays allowed.
    m_project->write(u"migrations/20260101000000_tx.sql"_qs,
                     u"CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;"_qs);
    QVERIFY2(migrate().ok(), "BEGIN ATOMIC refused");
}

void TestMigrator::roleDoesNotLeakIntoTheNextFile()
{
    // Defect 15: RESET ALL does not undo SET ROLE / SET SESSION AUTHORIZATION, so one
    // file's role applied the next file (and owned its objects).
    scalar(u"DO $$ BEGIN CREATE ROLE mig_low NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"_qs);
    scalar(u"GRANT CREATE ON SCHEMA public TO mig_low"_qs);
    m_project->write(u"migrations/20260101000001_low.sql"_qs, u"SET ROLE mig_low;\nCREATE TABLE low_owned (x int);"_qs);
    m_project->write(u"migrations/20260101000002_auth.sql"_qs, u"SET SESSION AUTHORIZATION mig_low;\nCREATE TABLE auth_owned (x int);"_qs);
    m_project->write(u"migrations/20260101000003_next.sql"_qs, u"CREATE TABLE next_owned (x int);"_qs);
    auto r = migrate();
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().toString()));
    QCOMPARE(scalar(u"SELECT tableowner FROM pg_tables WHERE tablename = 'low_owned'"_qs), u"mig_low"_qs);
    QCOMPARE(scalar(u"SELECT tableowner FROM pg_tables WHERE tablename = 'auth_owned'"_qs), u"mig_low"_qs);
    QCOMPARE(scalar(u"SELECT tableowner FROM pg_tables WHERE tablename = 'next_owned'"_qs), u"postgres"_qs);
}

void TestMigrator::changedAppliedFileIsAnError()
{
    m_project->write(u"schema.sql"_qs, u"CREATE TABLE base (a int);"_qs);
    m_project->write(u"migrations/20260101000000_a.sql"_qs, u"CREATE TABLE a (x int);"_qs);
    QVERIFY(migrate().ok());
    m_project->write(u"migrations/20260101000000_a.sql"_qs, u"CREATE TABLE a (x int, y int);"_qs);
    m_project->write(u"migrations/20260102000000_b.sql"_qs, u"CREATE TABLE b (x int);"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().file, u"migrations/20260101000000_a.sql"_qs);
    QVERIFY(r.error().message.contains(u"was changed afterwards"_qs));
    QVERIFY(r.error().hint.contains(u"pgext new migration"_qs));
    QCOMPARE(scalar(u"SELECT to_regclass('b') IS NULL"_qs), u"t"_qs); // nothing else ran

    // The baseline is immutable too.
    m_project->write(u"migrations/20260101000000_a.sql"_qs, u"CREATE TABLE a (x int);"_qs);
    m_project->write(u"schema.sql"_qs, u"CREATE TABLE base (a int, b int);"_qs);
    auto base = migrate();
    QVERIFY(!base.ok());
    QCOMPARE(base.error().file, u"schema.sql"_qs);
}

void TestMigrator::outOfOrder()
{
    m_project->write(u"migrations/20260105000000_new.sql"_qs, u"CREATE TABLE n (x int);"_qs);
    QVERIFY(migrate().ok());
    m_project->write(u"migrations/20260101000000_old.sql"_qs, u"CREATE TABLE o (x int);"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().file, u"migrations/20260101000000_old.sql"_qs);
    QVERIFY(r.error().message.contains(u"older than the newest applied migration (20260105000000)"_qs));
    QVERIFY(r.error().hint.contains(u"--allow-out-of-order"_qs));
    QCOMPARE(scalar(u"SELECT to_regclass('o') IS NULL"_qs), u"t"_qs);

    Migrator::Options allow;
    allow.allowOutOfOrder = true;
    auto ok = migrate(allow);
    QVERIFY2(ok.ok(), qPrintable(ok.ok() ? QString() : ok.error().toString()));
    QCOMPARE(scalar(u"SELECT to_regclass('o') IS NOT NULL"_qs), u"t"_qs);
    // Once applied it is simply applied.
    QVERIFY(migrate().ok());
}

void TestMigrator::missingAppliedFile()
{
    m_project->write(u"migrations/20260101000000_a.sql"_qs, u"CREATE TABLE a (x int);"_qs);
    QVERIFY(migrate().ok());
    m_project->remove(u"migrations/20260101000000_a.sql"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().file, u"migrations/20260101000000_a.sql"_qs);
    QVERIFY(r.error().message.contains(u"missing"_qs));
}

void TestMigrator::dryRunChangesNothing()
{
    m_project->write(u"schema.sql"_qs, u"CREATE TABLE base (a int);"_qs);
    m_project->write(u"migrations/20260101000000_a.sql"_qs, u"CREATE TABLE a (x int);"_qs);
    m_project->write(u"functions/f.sql"_qs, u"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"_qs);
    const QString snapshot = u"SELECT (SELECT count(*) FROM pg_class) || ':' || (SELECT count(*) FROM pg_namespace) || ':' "
                             "|| (SELECT count(*) FROM pg_proc)"_qs;
    const QString before = scalar(snapshot);
    auto conn = TestCluster::instance().connect(m_db);
    const Project project = m_project->open();
    Migrator m(conn, project);
    Migrator::Options dry;
    dry.dryRun = true;
    auto plan = m.plan(dry);
    QVERIFY(plan.ok());
    QCOMPARE(plan->toApply.size(), size_t(3));
    QVERIFY(m.migrate(dry).ok());
    QCOMPARE(scalar(snapshot), before);
    QCOMPARE(scalar(u"SELECT to_regnamespace('pgext') IS NULL"_qs), u"t"_qs);

    // Also on a database with history: still nothing changes.
    QVERIFY(migrate().ok());
    m_project->write(u"migrations/20260102000000_b.sql"_qs, u"CREATE TABLE b (x int);"_qs);
    const QString history = scalar(u"SELECT count(*) FROM pgext.schema_history"_qs);
    const QString before2 = scalar(snapshot);
    auto p2 = m.plan(dry);
    QVERIFY(p2.ok());
    QCOMPARE(p2->toApply.size(), size_t(1));
    QVERIFY(m.migrate(dry).ok());
    QCOMPARE(scalar(snapshot), before2);
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history"_qs), history);
}

void TestMigrator::concurrentRunnersApplyOnce()
{
    m_project->write(u"schema.sql"_qs, u"CREATE TABLE counter (n int);"_qs);
    for (int i = 1; i <= 5; ++i)
        m_project->write(u"migrations/2026010100000%1_m%1.sql"_qs.arg(i),
                         u"SELECT pg_sleep(0.1);\nINSERT INTO counter VALUES (%1);"_qs.arg(i));
    m_project->write(u"functions/f.sql"_qs, u"INSERT INTO counter VALUES (100);"_qs);
    const Project project = m_project->open();
    const QString conninfo = TestCluster::instance().conninfo(m_db);
    std::atomic<int> ok{0};
    std::atomic<int> waited{0};
    std::vector<std::thread> runners;
    for (int t = 0; t < 4; ++t) {
        runners.emplace_back([&] {
            auto conn = PgConnection::open(conninfo);
            if (!conn)
                return;
            Migrator m(*conn, project);
            Migrator::Options o;
            o.progress = [&waited](const QString &line) {
                if (line.startsWith(u"waiting"_qs))
                    ++waited;
            };
            if (m.migrate(o).ok())
                ++ok;
        });
    }
    for (std::thread &t : runners)
        t.join();
    QCOMPARE(ok.load(), 4);
    QVERIFY(waited.load() >= 1);
    QCOMPARE(scalar(u"SELECT string_agg(n::text, ',' ORDER BY n) FROM counter"_qs), u"1,2,3,4,5,100"_qs);
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history"_qs), u"7"_qs);
    QCOMPARE(scalar(u"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"_qs), u"0"_qs);
}

void TestMigrator::deployFunctionsOnly()
{
    m_project->write(u"migrations/20260101000000_a.sql"_qs, u"CREATE TABLE a (x int);"_qs);
    m_project->write(u"functions/f.sql"_qs, u"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"_qs);
    Migrator::Options o;
    o.repeatableOnly = true;
    auto r = migrate(o);
    QVERIFY(r.ok());
    QCOMPARE(r->applied.size(), size_t(1));
    QCOMPARE(scalar(u"SELECT f()"_qs), u"1"_qs);
    QCOMPARE(scalar(u"SELECT to_regclass('a') IS NULL"_qs), u"t"_qs);
}

void TestMigrator::badFileName()
{
    m_project->write(u"migrations/add_users.sql"_qs, u"SELECT 1;"_qs);
    auto r = migrate();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().file, u"migrations/add_users.sql"_qs);
    QVERIFY(r.error().message.contains(u"<YYYYMMDDHHMMSS>_<name>.sql"_qs));
    QCOMPARE(scalar(u"SELECT to_regnamespace('pgext') IS NULL"_qs), u"t"_qs);
}

void TestMigrator::cancelBetweenFiles()
{
    for (int i = 1; i <= 3; ++i)
        m_project->write(u"migrations/2026010100000%1_m.sql"_qs.arg(i), u"CREATE TABLE c%1 (a int);"_qs.arg(i));
    Migrator::Options o;
    int asked = 0;
    o.cancelled = [&asked] { return ++asked > 1; }; // let one file through, then cancel
    auto r = migrate(o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, Error::Kind::Cancelled);
    QVERIFY(r.error().message.contains(u"1 of 3"_qs));
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history"_qs), u"1"_qs);
    QCOMPARE(scalar(u"SELECT to_regclass('c2') IS NULL"_qs), u"t"_qs);
    QVERIFY(!scalar(u"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"_qs).toInt());
    QVERIFY(migrate().ok()); // the rest later
    QCOMPARE(scalar(u"SELECT count(*) FROM pgext.schema_history"_qs), u"3"_qs);
}

QTEST_GUILESS_MAIN(TestMigrator)
#include "tst_migrator.moc"
