// The studio's acceptance sequence, against a real PostgreSQL cluster, PostgREST and
// pg_events_ws: open a template project; break a function file and apply → a marker on the
// reported line; fix and apply → applied; start services → all healthy; run a query → rows
// in the grid (and cancel a long one); stop services → no process left.
#include "editorarea.h"
#include "localcluster.h"
#include "mainwindow.h"
#include "manifest.h"
#include "migrationspanel.h"
#include "projectsession.h"
#include "resultsgrid.h"
#include "resultsmodel.h"
#include "scaffold.h"
#include "servicespanel.h"
#include "sqleditor.h"
#include "statusbarwidgets.h"
#include "testcluster.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QTest>

#include <csignal>
#include <memory>

using namespace Studio;

class TestStudio : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void openTemplateProject();
    void brokenFunctionGetsMarker();
    void fixedFunctionIsApplied();
    void servicesBecomeHealthy();
    void queryFillsGrid();
    void longQueryCanBeCancelled();
    void stopLeavesNoProcess();
    void cleanupTestCase();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_root;
    QString m_function;
    QString m_original;
    std::unique_ptr<MainWindow> m_window;
    QList<qint64> m_pids;
};

static void writeFile(const QString &path, const QString &text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(text.toUtf8());
}

void TestStudio::initTestCase()
{
    m_dir = TestCluster::makeSharedTempDir();
    qputenv("PGEXT_STUDIO_SETTINGS", m_dir->filePath(u"studio.ini"_qs).toLocal8Bit());
    m_root = m_dir->filePath(u"studio-demo"_qs);
    Core::Status s = Core::Scaffold::initProject(m_root, u"studio-demo"_qs, u"todo"_qs);
    QVERIFY2(s.ok(), s ? "" : qPrintable(s.error().toString()));
    // Free ports, so this runs beside other tests and a developer's `pgext dev`.
    auto manifest = Core::Manifest::load(m_root + u"/pgext.toml"_qs);
    QVERIFY(manifest.ok());
    const int base = 47000 + int(QCoreApplication::applicationPid() % 1000) * 4;
    manifest->localPort = Core::Scaffold::freePort(base, base + 3999);
    manifest->postgrestPort = Core::Scaffold::freePort(manifest->localPort + 1, base + 3999);
    manifest->realtimePort = Core::Scaffold::freePort(manifest->postgrestPort + 1, base + 3999);
    manifest->frontendPort = Core::Scaffold::freePort(manifest->realtimePort + 1, base + 3999);
    writeFile(m_root + u"/pgext.toml"_qs, manifest->toToml());
    m_function = m_root + u"/functions/complete_task.sql"_qs;
    QFile f(m_function);
    QVERIFY(f.open(QIODevice::ReadOnly));
    m_original = QString::fromUtf8(f.readAll());
    QVERIFY(m_original.contains(u"SET done = true"_qs));
    m_window = std::make_unique<MainWindow>();
    m_window->show();
}

void TestStudio::openTemplateProject()
{
    QSignalSpy opened(m_window.get(), &MainWindow::projectOpened);
    Core::Status s = m_window->openProject(m_root);
    QVERIFY2(s.ok(), s ? "" : qPrintable(s.error().toString()));
    QCOMPARE(opened.count(), 1);
    QVERIFY(m_window->session());
    QVERIFY(m_window->windowTitle().contains(u"studio-demo"_qs));
    // The first function file is open, the migrations panel lists every file as pending.
    QVERIFY(m_window->editors()->count() >= 1);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->migrations()->stateOf(u"functions/complete_task.sql"_qs), u"pending"_qs, 10000);
    QCOMPARE(m_window->migrations()->stateOf(u"schema.sql"_qs), u"pending"_qs);
    QTRY_VERIFY(m_window->databaseStatus()->text().contains(u"stopped"_qs));
}

void TestStudio::brokenFunctionGetsMarker()
{
    SqlEditor *editor = m_window->editors()->openFile(m_function);
    QVERIFY(editor);
    QString broken = m_original;
    broken.replace(u"SET done = true"_qs, u"SET done = ture_value"_qs);
    editor->setText(broken);
    QVERIFY(editor->isDirty());
    const int expectedLine = int(broken.left(broken.indexOf(u"ture_value"_qs)).count(u'\n')) + 1;

    QSignalSpy failed(m_window->session(), &ProjectSession::migrationsFailed);
    m_window->applyMigrations(); // saves, starts the cluster (initdb on first use), migrates
    QVERIFY(!editor->isDirty());
    QVERIFY(failed.wait(180000));
    const auto error = failed.first().first().value<Core::Error>();
    QCOMPARE(error.file, u"functions/complete_task.sql"_qs);
    QCOMPARE(error.line, expectedLine);
    QCOMPARE(editor->errorLines(), QList<int>{expectedLine});
    QVERIFY2(editor->errorMessage(expectedLine).contains(u"ture_value"_qs), qPrintable(editor->errorMessage(expectedLine)));
    QCOMPARE(m_window->editors()->currentEditor(), editor);
    // The baseline went in; the broken function did not.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->migrations()->stateOf(u"schema.sql"_qs), u"applied"_qs, 10000);
    QCOMPARE(m_window->migrations()->stateOf(u"functions/complete_task.sql"_qs), u"pending"_qs);
}

void TestStudio::fixedFunctionIsApplied()
{
    SqlEditor *editor = m_window->editors()->editorFor(m_function);
    QVERIFY(editor);
    editor->setText(m_original);
    QSignalSpy applied(m_window->session(), &ProjectSession::migrationsApplied);
    m_window->applyMigrations();
    QVERIFY(applied.wait(60000));
    QVERIFY(editor->errorLines().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(m_window->migrations()->stateOf(u"functions/complete_task.sql"_qs), u"applied"_qs, 10000);
    for (int i = 0; i < m_window->migrations()->tree()->topLevelItemCount(); ++i)
        QCOMPARE(m_window->migrations()->tree()->topLevelItem(i)->text(0), u"applied"_qs);
    QVERIFY(m_window->databaseStatus()->text().contains(u"healthy"_qs));
}

void TestStudio::servicesBecomeHealthy()
{
    ProjectSession *session = m_window->session();
    QSignalSpy ready(session, &ProjectSession::servicesReady);
    QSignalSpy failed(session, &ProjectSession::servicesFailed);
    m_window->startServices();
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 90000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().value<Core::Error>().toString()));
    QVERIFY(session->isAllHealthy());
    for (const QString &name : {u"postgres"_qs, u"postgrest"_qs, u"realtime"_qs})
        QTRY_COMPARE(m_window->services()->stateOf(name), u"healthy"_qs);
    // A live log per service, and the replication lag in the status bar.
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->services()->logOf(u"postgres"_qs).isEmpty(), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->lagStatus()->text().contains(u"—"_qs), 10000);
    m_pids.clear();
    m_pids << session->service(u"postgrest"_qs)->pid() << session->service(u"realtime"_qs)->pid();
    auto cluster = Core::LocalCluster::forProject(session->project());
    QVERIFY(cluster.ok());
    m_pids << cluster->pid();
    for (qint64 pid : std::as_const(m_pids))
        QVERIFY(pid > 0);
}

void TestStudio::queryFillsGrid()
{
    SqlEditor *editor = m_window->editors()->newScratch(
        u"SELECT g AS n, 'task ' || g AS title FROM generate_series(1, 42) AS g;\n"_qs);
    QVERIFY(editor);
    m_window->runSql();
    QVERIFY(m_window->session()->isQueryRunning()); // asynchronous: the call returned at once
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->session()->isQueryRunning(), 20000);
    QCOMPARE(m_window->results()->rowCount(), 42);
    QCOMPARE(m_window->results()->model()->columnCount(), 2);
    QCOMPARE(m_window->results()->model()->index(41, 1).data().toString(), u"task 42"_qs);
    QVERIFY2(m_window->results()->summary().contains(u"42 row"_qs), qPrintable(m_window->results()->summary()));
    QVERIFY(m_window->results()->summary().contains(u"ms"_qs));

    // A query error gets a marker at the position PostgreSQL reports.
    editor->setText(u"SELECT 1;\nSELECT nope\n  FROM public.tasks;\n"_qs);
    m_window->runSql();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->session()->isQueryRunning(), 20000);
    QCOMPARE(editor->errorLines(), QList<int>{2});
    QVERIFY(m_window->results()->messages().contains(u"nope"_qs));

    // The catalog feeds completion: tables and functions of the project.
    QTRY_VERIFY_WITH_TIMEOUT(m_window->session()->catalogWords().contains(u"public.tasks"_qs), 10000);
    QVERIFY(m_window->session()->catalogWords().contains(u"complete_task(task_id bigint)"_qs));
}

void TestStudio::longQueryCanBeCancelled()
{
    SqlEditor *editor = m_window->editors()->currentEditor();
    editor->setText(u"SELECT pg_sleep(60);"_qs);
    m_window->runSql();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->session()->isQueryRunning(), 5000);
    QElapsedTimer clock;
    clock.start();
    m_window->cancelSql();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->session()->isQueryRunning(), 10000);
    QVERIFY(clock.elapsed() < 10000);
    QVERIFY2(m_window->results()->summary().contains(u"Cancelled"_qs), qPrintable(m_window->results()->summary()));
}

static bool alive(qint64 pid)
{
    return ::kill(pid_t(pid), 0) == 0;
}

void TestStudio::stopLeavesNoProcess()
{
    ProjectSession *session = m_window->session();
    m_window->stopServices();
    QTRY_COMPARE_WITH_TIMEOUT(session->stackPhase(), ProjectSession::StackPhase::Off, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(session->databaseState(), ProjectSession::DbState::Stopped, 60000);
    for (qint64 pid : std::as_const(m_pids))
        QTRY_VERIFY2_WITH_TIMEOUT(!alive(pid), qPrintable(u"pid %1 still running"_qs.arg(pid)), 10000);
    for (const QString &name : {u"postgres"_qs, u"postgrest"_qs, u"realtime"_qs})
        QCOMPARE(m_window->services()->stateOf(name), u"stopped"_qs);
    auto cluster = Core::LocalCluster::forProject(session->project());
    QVERIFY(cluster.ok());
    QCOMPARE(cluster->state(), Core::LocalCluster::State::Stopped);
}

void TestStudio::cleanupTestCase()
{
    if (m_window && m_window->session()) {
        // Whatever a failed test left running.
        if (auto cluster = Core::LocalCluster::forProject(m_window->session()->project()))
            (void)cluster->stop();
    }
    m_window.reset();
}

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
