#include "testcluster.h"

#include "scaffold.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QTest>

#include <csignal>
#include <cstdlib>

std::unique_ptr<QTemporaryDir> TestCluster::makeSharedTempDir()
{
    auto dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + u"/pgext-test-XXXXXX"_qs);
    if (!dir->isValid())
        qFatal("cannot create a temporary folder");
    QFile::setPermissions(dir->path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                           | QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther);
    return dir;
}

// A test process killed by a timeout or an abort never runs its destructors, so its
// cluster outlives it. Every new fixture stops the clusters whose owner is gone.
static void reapOrphans()
{
    const QDir tmp(QDir::tempPath());
    for (const QString &name : tmp.entryList({u"pgext-test-*"_qs}, QDir::Dirs)) {
        const QString dir = tmp.filePath(name);
        QFile owner(dir + u"/owner.pid"_qs);
        if (!owner.open(QIODevice::ReadOnly))
            continue;
        const qint64 pid = owner.readAll().trimmed().toLongLong();
        QFile stat(u"/proc/%1/stat"_qs.arg(pid));
        QByteArray fields = stat.open(QIODevice::ReadOnly) ? stat.readAll() : QByteArray();
        fields = fields.mid(fields.lastIndexOf(')') + 1).trimmed(); // state follows "(comm)"
        const bool zombie = fields.startsWith('Z');
        if (pid <= 0 || (::kill(pid_t(pid), 0) == 0 && !zombie))
            continue; // still alive: not ours to touch
        Core::LocalCluster::Options o;
        o.dataDir = dir + u"/data"_qs;
        o.socketDir = dir + u"/run"_qs;
        o.logFile = dir + u"/postgres.log"_qs;
        if (auto c = Core::LocalCluster::create(o))
            (void)c->stop(10);
        QDir(dir).removeRecursively();
    }
}

TestCluster::TestCluster()
{
    reapOrphans();
    m_dir = makeSharedTempDir();
    {
        QFile owner(m_dir->filePath(u"owner.pid"_qs));
        if (owner.open(QIODevice::WriteOnly))
            owner.write(QByteArray::number(QCoreApplication::applicationPid()));
    }
    Core::LocalCluster::Options o;
    o.dataDir = m_dir->filePath(u"data"_qs);
    o.socketDir = m_dir->filePath(u"run"_qs);
    o.logFile = m_dir->filePath(u"postgres.log"_qs);
    o.port = Core::Scaffold::freePort(56000 + int(QCoreApplication::applicationPid() % 2000), 59999);
    o.durable = false;
    auto cluster = Core::LocalCluster::create(o);
    if (!cluster)
        qFatal("test cluster: %s", qPrintable(cluster.error().toString()));
    m_cluster = std::make_unique<Core::LocalCluster>(*cluster);
    if (Core::Status s = m_cluster->start(); !s)
        qFatal("test cluster did not start: %s", qPrintable(s.error().toString()));
}

TestCluster::~TestCluster()
{
    if (m_cluster)
        (void)m_cluster->stop();
}

TestCluster &TestCluster::instance()
{
    // Stopped by the static destructor at exit, so no server outlives the test.
    static TestCluster cluster;
    return cluster;
}

QString TestCluster::freshDatabase(const QString &prefix)
{
    const QString name = u"%1_%2_%3"_qs.arg(prefix).arg(QCoreApplication::applicationPid()).arg(++m_counter);
    auto conn = connect();
    auto r = conn.exec(u"CREATE DATABASE "_qs + Core::PgConnection::quoteIdentifier(name));
    if (!r)
        qFatal("create database: %s", qPrintable(r.error().toString()));
    return name;
}

Core::PgConnection TestCluster::connect(const QString &database)
{
    auto conn = Core::PgConnection::open(conninfo(database));
    if (!conn)
        qFatal("connect: %s", qPrintable(conn.error().toString()));
    return std::move(conn).value();
}
