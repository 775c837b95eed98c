#include "pgconnection.h"
#include "scaffold.h"
#include "testcluster.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

using namespace Core;

// Drives the real `pgext` binary the way a user does.
class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void versionAndHelp_data();
    void versionAndHelp();
    void usageErrors_data();
    void usageErrors();
    void initCreatesProject();
    void initRefusesBadInput_data();
    void initRefusesBadInput();
    void resetAndStatus();
    void brokenMigrationPrintsLocation();
    void dryRunChangesNothing();
    void newFiles();
    void badManifest();
    void dropOtherDatabaseNeedsConfirmation();
    void outsideProject();
    void deploy();

private:
    struct Run { int code; QString out; QString err; };
    Run pgext(const QStringList &args, const QString &cwd = {});
    QString m_binary;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_demo;
};

TestCli::Run TestCli::pgext(const QStringList &args, const QString &cwd)
{
    QProcess p;
    p.setWorkingDirectory(cwd.isEmpty() ? m_dir->path() : cwd);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"DATABASE_URL"_qs);
    p.setProcessEnvironment(env);
    p.setStandardInputFile(QProcess::nullDevice()); // no terminal: confirmations must not hang
    p.start(m_binary, args);
    if (!p.waitForFinished(120000))
        qFatal("pgext %s did not finish", qPrintable(args.join(u' ')));
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

void TestCli::initTestCase()
{
    m_binary = qEnvironmentVariable("PGEXT_BINARY");
    QVERIFY2(QFile::exists(m_binary), "PGEXT_BINARY must point at the pgext binary (ctest sets it)");
    m_dir = TestCluster::makeSharedTempDir();
    m_demo = m_dir->filePath(u"demo"_qs);
}

void TestCli::cleanupTestCase()
{
    if (QFile::exists(m_demo + u"/pgext.toml"_qs))
        pgext({u"db:stop"_qs}, m_demo);
}

void TestCli::versionAndHelp_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("--version") << QStringList{u"--version"_qs} << u"pgext 0."_qs;
    QTest::newRow("--help") << QStringList{u"--help"_qs} << u"Commands:"_qs;
    for (const char *cmd : {"init", "db:create", "db:drop", "db:reset", "db:start", "db:stop", "migrate",
                            "deploy-functions", "status", "new", "dev", "logs", "deploy", "token"}) {
        const QString c = QString::fromLatin1(cmd);
        QTest::newRow(qPrintable(c + u" --help"_qs)) << QStringList{c, u"--help"_qs} << u"Usage: pgext "_qs + c;
    }
}

void TestCli::versionAndHelp()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const Run r = pgext(args);
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(expected), qPrintable(r.out));
}

void TestCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no command") << QStringList{} << u"Usage: pgext"_qs;
    QTest::newRow("unknown command") << QStringList{u"frobnicate"_qs} << u"unknown command \"frobnicate\""_qs;
    QTest::newRow("unknown option") << QStringList{u"migrate"_qs, u"--bogus"_qs} << u"Unknown option 'bogus'"_qs;
    QTest::newRow("init without name") << QStringList{u"init"_qs} << u"Usage: pgext init"_qs;
    QTest::newRow("new without kind") << QStringList{u"new"_qs, u"thing"_qs, u"x"_qs} << u"Usage: pgext new migration"_qs;
}

void TestCli::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const Run r = pgext(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
}

void TestCli::initCreatesProject()
{
    const Run r = pgext({u"init"_qs, u"demo"_qs});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    // init picks the first free port from 54330, but binds nothing: another test process
    // initialising a project at the same moment gets the same one. Move ours to a port
    // derived from our pid, as tst_dev does.
    {
        QFile toml(m_demo + u"/pgext.toml"_qs);
        QVERIFY(toml.open(QIODevice::ReadOnly));
        QString text = QString::fromUtf8(toml.readAll());
        toml.close();
        const int port = Scaffold::freePort(40000 + int(QCoreApplication::applicationPid() % 10000), 59999);
        QVERIFY(port > 0);
        static const QRegularExpression portLine(u"^port = \\d+$"_qs, QRegularExpression::MultilineOption);
        const qsizetype at = text.indexOf(portLine, text.indexOf(u"[database]"_qs));
        QVERIFY(at > 0);
        text.replace(at, text.indexOf(u'\n', at) - at, u"port = %1"_qs.arg(port));
        QVERIFY(toml.open(QIODevice::WriteOnly | QIODevice::Truncate));
        toml.write(text.toUtf8());
    }
    for (const char *f : {"pgext.toml", "schema.sql", "functions/complete_task.sql", "postgrest.conf", ".env",
                          "docker-compose.yml", "frontend/index.html", ".gitignore"})
        QVERIFY2(QFile::exists(m_demo + u'/' + QString::fromLatin1(f)), f);
    QVERIFY(QDir(m_demo + u"/migrations"_qs).exists());
    QFile env(m_demo + u"/.env"_qs);
    QVERIFY(env.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(env.readAll());
    const QString secret = text.section(u"JWT_SECRET="_qs, 1).section(u'\n', 0, 0);
    QVERIFY2(secret.size() >= 64, qPrintable(secret));
    QVERIFY(env.permissions() & QFile::ReadOwner);
    QVERIFY(!(env.permissions() & QFile::ReadOther)); // secrets are private
    QVERIFY(!text.contains(u"{{"_qs));

    // A second project gets a different secret.
    const Run r2 = pgext({u"init"_qs, u"other"_qs});
    QCOMPARE(r2.code, 0);
    QFile env2(m_dir->filePath(u"other/.env"_qs));
    QVERIFY(env2.open(QIODevice::ReadOnly));
    QVERIFY(!QString::fromUtf8(env2.readAll()).contains(secret));
}

void TestCli::initRefusesBadInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("existing folder") << QStringList{u"init"_qs, u"demo"_qs} << u"already exists and is not empty"_qs;
    QTest::newRow("bad name") << QStringList{u"init"_qs, u"Bad Name"_qs} << u"invalid project name \"Bad Name\""_qs;
    QTest::newRow("unknown template") << QStringList{u"init"_qs, u"x1"_qs, u"--template"_qs, u"nope"_qs}
                                      << u"unknown template \"nope\""_qs;
}

void TestCli::initRefusesBadInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const QStringList before = QDir(m_dir->path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
    const Run r = pgext(args);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    // Nothing half-made is left behind.
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), before);
}

void TestCli::resetAndStatus()
{
    // The acceptance path: pgext init demo && cd demo && pgext db:reset && pgext status
    const Run reset = pgext({u"db:reset"_qs}, m_demo);
    QVERIFY2(reset.code == 0, qPrintable(reset.out + reset.err));
    QVERIFY(reset.out.contains(u"Applied 3 file(s)"_qs));
    const Run status = pgext({u"status"_qs}, m_demo);
    QVERIFY2(status.code == 0, qPrintable(status.err));
    QVERIFY(status.out.contains(u"Cluster     running"_qs));
    QVERIFY(status.out.contains(u"applied      schema.sql"_qs));
    QVERIFY(status.out.contains(u"applied      functions/complete_task.sql"_qs));
    QVERIFY(status.out.contains(u"applied      functions/login.sql"_qs));
    QVERIFY(status.out.contains(u"3 applied"_qs));
    QFile env(m_demo + u"/.env"_qs);
    QVERIFY(env.open(QIODevice::ReadOnly));
    const QString password = QString::fromUtf8(env.readAll()).section(u"POSTGRES_PASSWORD="_qs, 1).section(u'\n', 0, 0);
    QVERIFY(password.size() >= 32);
    QVERIFY(!status.out.contains(password)); // masked
    QVERIFY(status.out.contains(u"postgres:****@127.0.0.1"_qs));

    // The template's RLS policy works: a user sees only their own tasks.
    auto conn = PgConnection::open(u"host=%1/.pgext/run port=%2 user=postgres dbname=demo"_qs.arg(m_demo)
                                       .arg(status.out.section(u"127.0.0.1:"_qs, 1).section(u' ', 0, 0).toInt()));
    QVERIFY2(conn.ok(), qPrintable(conn.ok() ? QString() : conn.error().toString()));
    auto r = conn->exec(uR"(
        INSERT INTO users (id, email, password_hash) VALUES
          ('00000000-0000-0000-0000-00000000000a', 'a@x.org', 'x'),
          ('00000000-0000-0000-0000-00000000000b', 'b@x.org', 'x');
        INSERT INTO tasks (user_id, title) VALUES
          ('00000000-0000-0000-0000-00000000000a', 'a1'), ('00000000-0000-0000-0000-00000000000a', 'a2'),
          ('00000000-0000-0000-0000-00000000000b', 'b1');
        SELECT id FROM tasks WHERE title = 'b1';)"_qs);
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().toString()));
    const QString b1 = r->value(0, 0);
    r = conn->exec(uR"(
        BEGIN;
        SET LOCAL ROLE todo_user;
        SELECT set_config('request.jwt.claims', '{"sub":"00000000-0000-0000-0000-00000000000a","role":"todo_user"}', true);
        SELECT string_agg(title, ',' ORDER BY title) FROM tasks;)"_qs);
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().toString()));
    QCOMPARE(r->value(0, 0), u"a1,a2"_qs);
    auto done = conn->exec(u"SELECT title, done FROM complete_task((SELECT id FROM tasks WHERE title = 'a1'))"_qs);
    QVERIFY(done.ok());
    QCOMPARE(done->value(0, 1), u"t"_qs);
    auto other = conn->exec(u"SELECT (complete_task($1::bigint)).id IS NULL"_qs, {b1});
    QVERIFY(other.ok());
    QCOMPARE(other->value(0, 0), u"t"_qs); // b1 is invisible to a: nothing updated
    auto denied = conn->exec(u"SELECT * FROM users"_qs);
    QVERIFY(!denied.ok());
    QCOMPARE(denied.error().sqlState, u"42501"_qs);
    (void)conn->exec(u"ROLLBACK"_qs);
}

void TestCli::brokenMigrationPrintsLocation()
{
    QFile f(m_demo + u"/migrations/20300101000000_broken.sql"_qs);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("ALTER TABLE tasks ADD COLUMN notes text;\n\nSELECT titel FROM tasks;\n");
    f.close();
    const Run r = pgext({u"migrate"_qs}, m_demo);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.startsWith(u"migrations/20300101000000_broken.sql:3:8: column \"titel\" does not exist"_qs), qPrintable(r.err));
    QVERIFY(r.err.contains(u"HINT: Perhaps you meant to reference the column \"tasks.title\"."_qs));
    QVERIFY(r.err.contains(u"SQLSTATE: 42703"_qs));
    const Run status = pgext({u"status"_qs}, m_demo);
    QVERIFY(status.out.contains(u"pending      migrations/20300101000000_broken.sql"_qs));
    f.remove();
}

void TestCli::dryRunChangesNothing()
{
    QFile f(m_demo + u"/migrations/20300101000001_tags.sql"_qs);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("CREATE TABLE tags (name text PRIMARY KEY);\n");
    f.close();
    const Run dry = pgext({u"migrate"_qs, u"--dry-run"_qs}, m_demo);
    QCOMPARE(dry.code, 0);
    QVERIFY2(dry.out.contains(u"apply  migrations/20300101000001_tags.sql"_qs), qPrintable(dry.out));
    QVERIFY(dry.out.contains(u"Nothing was changed"_qs));
    const Run status = pgext({u"status"_qs}, m_demo);
    QVERIFY(status.out.contains(u"pending      migrations/20300101000001_tags.sql"_qs));
    const Run apply = pgext({u"migrate"_qs}, m_demo);
    QCOMPARE(apply.code, 0);
    QVERIFY(apply.out.contains(u"Applied 1 file(s)"_qs));
    const Run again = pgext({u"migrate"_qs}, m_demo);
    QVERIFY(again.out.contains(u"up to date"_qs));
}

void TestCli::newFiles()
{
    const Run m = pgext({u"new"_qs, u"migration"_qs, u"add_index"_qs}, m_demo);
    QCOMPARE(m.code, 0);
    QVERIFY(m.out.contains(u"Created migrations/"_qs));
    QVERIFY(m.out.contains(u"_add_index.sql"_qs));
    // Versions keep increasing even when created within the same second, and after a
    // manually named future migration.
    const Run m2 = pgext({u"new"_qs, u"migration"_qs, u"second"_qs}, m_demo);
    QCOMPARE(m2.code, 0);
    QStringList files = QDir(m_demo + u"/migrations"_qs).entryList({u"*.sql"_qs}, QDir::Files, QDir::Name);
    QVERIFY(files.last().endsWith(u"_second.sql"_qs));
    QVERIFY(files.last().left(14) > u"20300101000001"_qs);

    const Run fn = pgext({u"new"_qs, u"function"_qs, u"archive_done"_qs}, m_demo);
    QCOMPARE(fn.code, 0);
    QVERIFY(QFile::exists(m_demo + u"/functions/archive_done.sql"_qs));
    const Run dup = pgext({u"new"_qs, u"function"_qs, u"archive_done"_qs}, m_demo);
    QCOMPARE(dup.code, 1);
    QVERIFY(dup.err.contains(u"already exists"_qs));
    const Run bad = pgext({u"new"_qs, u"migration"_qs, u"Bad-Name"_qs}, m_demo);
    QCOMPARE(bad.code, 1);
    QVERIFY(bad.err.contains(u"invalid migration name"_qs));
    // The generated files apply cleanly.
    const Run apply = pgext({u"migrate"_qs}, m_demo);
    QVERIFY2(apply.code == 0, qPrintable(apply.err));
    QVERIFY(apply.out.contains(u"Applied 3 file(s)"_qs));
}

void TestCli::badManifest()
{
    auto dir = TestCluster::makeSharedTempDir();
    QFile f(dir->filePath(u"pgext.toml"_qs));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("[project]\nname = \"x\"\n[database]\nname = \"x\"\nport = \"abc\"\n");
    f.close();
    const Run r = pgext({u"status"_qs}, dir->path());
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.startsWith(u"pgext.toml:5:8: database.port: expected a port number between 1024 and 65535"_qs), qPrintable(r.err));
}

void TestCli::dropOtherDatabaseNeedsConfirmation()
{
    const QString db = TestCluster::instance().freshDatabase(u"cli"_qs);
    // A logical slot (as pg_events_ws leaves) must not stop a drop.
    {
        auto c = TestCluster::instance().connect(db);
        QVERIFY(c.exec(u"SELECT pg_create_logical_replication_slot('cli_slot', 'test_decoding')"_qs).ok());
    }
    const QString url = u"postgresql:///%1?host=%2&port=%3&user=postgres"_qs.arg(db, TestCluster::instance().cluster().options().socketDir)
                            .arg(TestCluster::instance().cluster().options().port);
    const Run refused = pgext({u"db:drop"_qs, u"--database-url"_qs, url}, m_demo);
    QCOMPARE(refused.code, 1);
    QVERIFY2(refused.err.contains(u"not the project's local database"_qs), qPrintable(refused.err));
    QVERIFY(refused.err.contains(u"--yes"_qs));
    auto conn = TestCluster::instance().connect();
    QCOMPARE(conn.exec(u"SELECT count(*) FROM pg_database WHERE datname = $1"_qs, {db})->value(0, 0), u"1"_qs);

    const Run resetRefused = pgext({u"db:reset"_qs, u"--database-url"_qs, url}, m_demo);
    QCOMPARE(resetRefused.code, 1);
    QCOMPARE(conn.exec(u"SELECT count(*) FROM pg_database WHERE datname = $1"_qs, {db})->value(0, 0), u"1"_qs);

    const Run dropped = pgext({u"db:drop"_qs, u"--yes"_qs, u"--database-url"_qs, url}, m_demo);
    QVERIFY2(dropped.code == 0, qPrintable(dropped.err));
    QCOMPARE(conn.exec(u"SELECT count(*) FROM pg_database WHERE datname = $1"_qs, {db})->value(0, 0), u"0"_qs);
}

void TestCli::outsideProject()
{
    auto dir = TestCluster::makeSharedTempDir();
    const Run r = pgext({u"migrate"_qs}, dir->path());
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(u"no pgext.toml found"_qs), qPrintable(r.err));
    QVERIFY(r.err.contains(u"pgext init"_qs));
}

void TestCli::deploy()
{
    const QString db = TestCluster::instance().freshDatabase(u"deploy"_qs);
    const auto &o = TestCluster::instance().cluster().options();
    auto www = TestCluster::makeSharedTempDir();
    {
        QFile env(m_demo + u"/.env.staging"_qs);
        QVERIFY(env.open(QIODevice::WriteOnly));
        env.write(u"DATABASE_URL=postgresql:///%1?host=%2&port=%3&user=postgres\nJWT_SECRET=%4\n"_qs
                      .arg(db, o.socketDir).arg(o.port).arg(QString(64, u'k')).toUtf8());
        QFile manifest(m_demo + u"/pgext.toml"_qs);
        QVERIFY(manifest.open(QIODevice::Append)); // [frontend] is the last section
        manifest.write(u"deploy_dir = \"%1/site\"\n"_qs.arg(www->path()).toUtf8());
    }
    auto conn = TestCluster::instance().connect(db);
    auto tasksExist = [&conn] { return conn.exec(u"SELECT to_regclass('public.tasks') IS NOT NULL"_qs)->value(0, 0) == u"t"_qs; };

    const Run missing = pgext({u"deploy"_qs, u"--env"_qs, u"nope"_qs}, m_demo);
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains(u".env.nope"_qs), qPrintable(missing.err));

    const Run unconfirmed = pgext({u"deploy"_qs, u"--env"_qs, u"staging"_qs}, m_demo);
    QCOMPARE(unconfirmed.code, 1);
    QVERIFY2(unconfirmed.err.contains(u"--yes"_qs), qPrintable(unconfirmed.err));
    QVERIFY(unconfirmed.out.contains(u"apply             schema.sql"_qs));
    QVERIFY(!tasksExist()); // nothing applied without confirmation
    QVERIFY(!QFile::exists(www->filePath(u"site/index.html"_qs)));

    const Run dry = pgext({u"deploy"_qs, u"--env"_qs, u"staging"_qs, u"--dry-run"_qs}, m_demo);
    QCOMPARE(dry.code, 0);
    QVERIFY(!tasksExist());

    const Run applied = pgext({u"deploy"_qs, u"--env"_qs, u"staging"_qs, u"--yes"_qs}, m_demo);
    QVERIFY2(applied.code == 0, qPrintable(applied.out + applied.err));
    QVERIFY(applied.out.contains(u"Deployed."_qs));
    QVERIFY(tasksExist());
    QCOMPARE(conn.exec(u"SELECT count(*) FROM pg_events.tracked() WHERE table_name = 'tasks'"_qs)->value(0, 0), u"1"_qs);
    QVERIFY(QFile::exists(www->filePath(u"site/index.html"_qs)));
    QVERIFY(QFile::exists(www->filePath(u"site/config.js"_qs)));

    const Run again = pgext({u"deploy"_qs, u"--env"_qs, u"staging"_qs, u"--yes"_qs}, m_demo);
    QCOMPARE(again.code, 0);
    QVERIFY(again.out.contains(u"the database schema is up to date"_qs));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
