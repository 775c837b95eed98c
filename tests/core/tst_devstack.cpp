#include "devstack.h"
#include "localcluster.h"
#include "scaffold.h"
#include "testcluster.h"

#include <QLockFile>
#include <QTest>

using namespace Core;

// DevStack::prepare() runs on a worker in the studio; a cancel must stop it at its next
// step, change nothing after that step, and release the project lock.
class TestDevStack : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void cancelBeforeTheClusterChangesNothing();
};

void TestDevStack::cancelBeforeTheClusterChangesNothing()
{
    auto dir = TestCluster::makeSharedTempDir();
    const QString root = dir->filePath(u"stack"_qs);
    QVERIFY(Scaffold::initProject(root, u"stack"_qs, u"todo"_qs).ok());
    auto project = Project::open(root);
    QVERIFY(project.ok());
    DevStack::Options options;
    options.postgrest = false;
    options.realtime = false;
    options.frontend = false;

    {
        DevStack stack(*project, options);
        stack.requestCancel();
        const Status s = stack.prepare();
        QVERIFY(!s.ok());
        QCOMPARE(s.error().kind, Error::Kind::Cancelled);
    }
    auto cluster = LocalCluster::forProject(*project);
    QVERIFY(cluster.ok());
    QCOMPARE(cluster->state(), LocalCluster::State::NotInitialized);
    QLockFile lock(DevStack::lockFilePath(*project));
    QVERIFY(lock.tryLock(0)); // released
    lock.unlock();

    // Without a cancel the same project comes up.
    DevStack stack(*project, options);
    const Status s = stack.prepare();
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().toString()));
    QCOMPARE(cluster->state(), LocalCluster::State::Running);
    stack.stop();
    QVERIFY(cluster->stop().ok());
}

QTEST_GUILESS_MAIN(TestDevStack)
#include "tst_devstack.moc"
