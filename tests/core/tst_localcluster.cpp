#include "localcluster.h"
#include "pgconnection.h"
#include "scaffold.h"
#include "testcluster.h"
#include "testproject.h"

#include <QDir>
#include <QFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

using namespace Core;

// Each test gets its own cluster in its own folder (not the shared fixture), because
// these tests are about starting and stopping clusters.
class TestLocalCluster : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void startStopStatus();
    void runsAsClusterUser();
    void portInUse();
    void stalePidFile();
    void missingBinaries();
    void unwritableFolder();
    void folderClosedToClusterUser();
    void socketPathTooLong();
    void projectFolderClosedMovesCluster();
    void cleanup();

private:
    LocalCluster makeCluster(int port = 0);
    std::unique_ptr<QTemporaryDir> m_dir;
    std::vector<LocalCluster> m_started;
};

LocalCluster TestLocalCluster::makeCluster(int port)
{
    m_dir = TestCluster::makeSharedTempDir();
    LocalCluster::Options o;
    o.dataDir = m_dir->filePath(u"data"_qs);
    o.socketDir = m_dir->filePath(u"run"_qs);
    o.logFile = m_dir->filePath(u"logs/postgres.log"_qs);
    o.port = port ? port : Scaffold::freePort(58000 + int(getpid() % 1000), 59999);
    o.durable = false;
    auto c = LocalCluster::create(o);
    if (!c)
        qFatal("%s", qPrintable(c.error().toString()));
    return *c;
}

void TestLocalCluster::cleanup()
{
    for (LocalCluster &c : m_started)
        (void)c.stop();
    m_started.clear();
}

void TestLocalCluster::startStopStatus()
{
    LocalCluster c = makeCluster();
    QCOMPARE(c.state(), LocalCluster::State::NotInitialized);
    QCOMPARE(c.pid(), 0);
    Status s = c.start();
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().toString()));
    m_started.push_back(c);
    QCOMPARE(c.state(), LocalCluster::State::Running);
    QVERIFY(c.pid() > 0);

    auto conn = PgConnection::open(c.conninfo());
    QVERIFY2(conn.ok(), qPrintable(conn.ok() ? QString() : conn.error().toString()));
    auto r = conn->exec(u"SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int,"
                        " current_setting('max_wal_senders')::int, current_setting('listen_addresses')"_qs);
    QVERIFY(r.ok());
    QCOMPARE(r->value(0, 0), u"logical"_qs);
    QVERIFY(r->value(0, 1).toInt() >= 10);
    QVERIFY(r->value(0, 2).toInt() >= 10);
    QCOMPARE(r->value(0, 3), u"127.0.0.1"_qs);

    QString boot;
    auto has = LocalCluster::hasOutputPluginLibraries(c.binaries(), &boot);
    QVERIFY(has.ok());
    if (*has) {
        auto libs = conn->exec(u"SELECT setting FROM pg_settings WHERE name = 'output_plugin_libraries'"_qs);
        QVERIFY(libs.ok());
        const QStringList names = libs->value(0, 0).split(u", "_qs);
        QVERIFY2(names.contains(u"pg_events"_qs), qPrintable(libs->value(0, 0)));
        // Extended, not replaced: the server's own entries stay.
        for (const QString &n : boot.split(u", "_qs))
            QVERIFY(names.contains(n));
    }

    // TCP on 127.0.0.1 answers too.
    QTcpSocket tcp;
    tcp.connectToHost(QHostAddress::LocalHost, quint16(c.options().port));
    QVERIFY(tcp.waitForConnected(3000));
    tcp.close();

    // start is idempotent
    QVERIFY(c.start().ok());
    const qint64 pid = c.pid();

    QVERIFY(c.stop().ok());
    QCOMPARE(c.state(), LocalCluster::State::Stopped);
    QCOMPARE(c.pid(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(::kill(pid_t(pid), 0) != 0, 5000);
    QVERIFY(c.stop().ok()); // idempotent

    // Restart keeps the data.
    QVERIFY(c.start().ok());
    QCOMPARE(c.state(), LocalCluster::State::Running);
}

void TestLocalCluster::runsAsClusterUser()
{
    LocalCluster c = makeCluster();
    QVERIFY(c.start().ok());
    m_started.push_back(c);
    QFile status(u"/proc/%1/status"_qs.arg(c.pid()));
    QVERIFY(status.open(QIODevice::ReadOnly));
    QString uidLine;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("Uid:"))
            uidLine = QString::fromLatin1(line);
    const QStringList uids = uidLine.split(u'\t', Qt::SkipEmptyParts);
    QVERIFY(uids.size() >= 2);
    const uid_t expected = OsUser::isRoot() ? OsUser::lookup(u"postgres"_qs)->uid : geteuid();
    QCOMPARE(uids[1].toUInt(), expected);
    if (OsUser::isRoot()) {
        QVERIFY(expected != 0);
        struct stat st;
        QVERIFY(stat(QFile::encodeName(c.options().dataDir).constData(), &st) == 0);
        QCOMPARE(st.st_uid, expected);
    }
}

void TestLocalCluster::portInUse()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    LocalCluster c = makeCluster(squatter.serverPort());
    Status s = c.start();
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.contains(u"port %1 on 127.0.0.1 is already in use"_qs.arg(squatter.serverPort())),
             qPrintable(s.error().message));
    QVERIFY(s.error().hint.contains(u"pgext.toml"_qs));
    QVERIFY(c.state() != LocalCluster::State::Running);
    squatter.close();
    QVERIFY(c.start().ok());
    m_started.push_back(c);
}

void TestLocalCluster::stalePidFile()
{
    LocalCluster c = makeCluster();
    QVERIFY(c.start().ok());
    QVERIFY(c.stop().ok());
    // A crash leaves postmaster.pid behind, and its PID may now belong to another
    // process (here: this test).
    const QString pidFile = QDir(c.options().dataDir).filePath(u"postmaster.pid"_qs);
    QFile f(pidFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::number(qint64(getpid())) + '\n' + c.options().dataDir.toUtf8() + "\n1700000000\n");
    f.close();
    QCOMPARE(c.state(), LocalCluster::State::Stopped);
    Status s = c.start();
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().toString()));
    m_started.push_back(c);
    QCOMPARE(c.state(), LocalCluster::State::Running);
    QVERIFY(c.pid() != getpid());
}

void TestLocalCluster::missingBinaries()
{
    LocalCluster::Options o;
    o.dataDir = u"/tmp/unused"_qs;
    o.socketDir = u"/tmp/unused-run"_qs;
    o.logFile = u"/tmp/unused.log"_qs;
    o.binDir = u"/nonexistent/postgresql/bin"_qs;
    auto c = LocalCluster::create(o);
    QVERIFY(!c.ok());
    QVERIFY2(c.error().message.contains(u"no PostgreSQL server programs (initdb, pg_ctl, postgres) in /nonexistent"_qs),
             qPrintable(c.error().message));
    QVERIFY(c.error().hint.contains(u"bin_dir"_qs));
}

void TestLocalCluster::unwritableFolder()
{
    // /proc refuses new folders even for root.
    LocalCluster::Options o;
    o.dataDir = u"/proc/pgext-test/data"_qs;
    o.socketDir = u"/tmp/pgext-unwritable-run"_qs;
    o.logFile = u"/tmp/pgext-unwritable.log"_qs;
    auto c = LocalCluster::create(o);
    QVERIFY(c.ok());
    Status s = c->start();
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.startsWith(u"cannot write to /proc/pgext-test"_qs), qPrintable(s.error().message));
    QVERIFY(!s.error().hint.isEmpty());
}

void TestLocalCluster::folderClosedToClusterUser()
{
    if (!OsUser::isRoot())
        QSKIP("only root runs the cluster as another user");
    QTemporaryDir closed; // mode 0700, owned by root: postgres cannot enter it
    QVERIFY(closed.isValid());
    LocalCluster::Options o;
    o.dataDir = closed.filePath(u"data"_qs);
    o.socketDir = u"/tmp/pgext-closed-run"_qs;
    o.logFile = u"/tmp/pgext-closed.log"_qs;
    auto c = LocalCluster::create(o);
    QVERIFY(c.ok());
    Status s = c->start();
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.contains(u"cannot enter "_qs + closed.path()), qPrintable(s.error().message));
    QVERIFY(s.error().hint.contains(u"chmod o+x"_qs));
}

void TestLocalCluster::socketPathTooLong()
{
    LocalCluster::Options o;
    o.dataDir = u"/tmp/x/data"_qs;
    o.socketDir = u"/tmp/"_qs + QString(120, u'a');
    o.logFile = u"/tmp/x.log"_qs;
    auto c = LocalCluster::create(o);
    QVERIFY(!c.ok());
    QVERIFY(c.error().message.contains(u"socket folder path is too long"_qs));
}

void TestLocalCluster::projectFolderClosedMovesCluster()
{
    // A project whose path is long gets a short socket path; one the cluster user
    // cannot enter keeps its data where that user can reach it.
    TestProject tp;
    QDir(tp.root()).mkpath(QString(40, u'd') + u'/' + QString(40, u'e'));
    const QString deep = tp.path(QString(40, u'd') + u'/' + QString(40, u'e'));
    QFile::copy(tp.path(u"pgext.toml"_qs), deep + u"/pgext.toml"_qs);
    auto deepProject = Project::open(deep);
    QVERIFY(deepProject.ok());
    auto c = LocalCluster::forProject(*deepProject);
    QVERIFY(c.ok());
    QVERIFY(c->options().socketDir.startsWith(u"/tmp/pgext-"_qs));
    QVERIFY(c->options().dataDir.startsWith(deep));

    if (OsUser::isRoot()) {
        QTemporaryDir closed;
        QFile::copy(tp.path(u"pgext.toml"_qs), closed.filePath(u"pgext.toml"_qs));
        auto closedProject = Project::open(closed.path());
        QVERIFY(closedProject.ok());
        auto moved = LocalCluster::forProject(*closedProject);
        QVERIFY(moved.ok());
        QVERIFY2(moved->options().dataDir.startsWith(u"/var/tmp/pgext-clusters/"_qs), qPrintable(moved->options().dataDir));
        QVERIFY(!moved->options().socketDir.startsWith(closed.path()));
    }
}

QTEST_GUILESS_MAIN(TestLocalCluster)
#include "tst_localcluster.moc"
