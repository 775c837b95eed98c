#include "rotatinglog.h"
#include "scaffold.h"
#include "service.h"
#include "servicesupervisor.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Core;

// Service and ServiceSupervisor with real child processes (tests/core/servicehelper.cpp).
class TestService : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void startsHealthyAndLogs();
    void crashRestartsWithBackoff();
    void stopLeavesNoProcess();
    void ignoredSigtermGetsSigkill();
    void portTakenIsAClearError();
    void missingProgram();
    void unhealthyStartIsAFailure();
    void httpStatusDecidesHealth();
    void supervisorStartsNothingOnBadInput();
    void supervisorAllHealthy();
    void logRotation();

private:
    ServiceSpec spec(const QStringList &extra = {});
    static bool alive(qint64 pid) { return pid > 0 && QFile::exists(u"/proc/%1"_qs.arg(pid)); }
    std::unique_ptr<QTemporaryDir> m_dir;
    int m_port = 0;
};

void TestService::init()
{
    qRegisterMetaType<Core::Error>();
    m_dir = std::make_unique<QTemporaryDir>();
    m_port = Scaffold::freePort(42000, 48000);
    QVERIFY(m_port > 0);
}

ServiceSpec TestService::spec(const QStringList &extra)
{
    ServiceSpec s;
    s.name = u"helper"_qs;
    s.displayName = u"Helper"_qs;
    s.program = QStringLiteral(SERVICE_HELPER);
    s.arguments = QStringList{QString::number(m_port)} + extra;
    s.logFile = m_dir->filePath(u"logs/helper.log"_qs);
    s.port = m_port;
    s.healthPath = u"/health"_qs;
    s.portSetting = u"[helper] port"_qs;
    s.startTimeoutMs = 5000;
    s.stopTimeoutMs = 1000;
    return s;
}

void TestService::startsHealthyAndLogs()
{
    Service service(spec({u"--print"_qs, u"hello from the helper"_qs}));
    QSignalSpy lines(&service, &Service::logLine);
    QVERIFY(service.start());
    QTRY_COMPARE_WITH_TIMEOUT(service.state(), Service::State::Healthy, 5000);
    QVERIFY(alive(service.pid()));
    QTRY_VERIFY(std::any_of(lines.begin(), lines.end(), [](const QList<QVariant> &l) {
        return l.value(0).toString() == u"hello from the helper"_qs; }));
    QFile log(spec().logFile);
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QByteArray text = log.readAll();
    QVERIFY(text.contains("hello from the helper"));
    QVERIFY(text.contains("helper: started servicehelper (pid"));
    QVERIFY(text.contains("healthy after"));
}

void TestService::crashRestartsWithBackoff()
{
    Service service(spec({u"--crash-after"_qs, u"300"_qs}));
    QSignalSpy failures(&service, &Service::failed);
    QVERIFY(service.start());
    QTRY_VERIFY_WITH_TIMEOUT(failures.size() >= 3, 10000);
    // 0.5 s, 1 s, 2 s: doubling from the initial delay.
    QCOMPARE(failures[0].value(1).toInt(), 500);
    QCOMPARE(failures[1].value(1).toInt(), 1000);
    QCOMPARE(failures[2].value(1).toInt(), 2000);
    QVERIFY(failures[0].value(0).value<Error>().message.contains(u"killed by a signal"_qs));
    QVERIFY(failures[0].value(0).value<Error>().detail.contains(u"helper: crashing"_qs));
    QVERIFY(service.restartCount() >= 2);
    service.stopAndWait();
    QCOMPARE(service.state(), Service::State::Stopped);
}

void TestService::stopLeavesNoProcess()
{
    Service service(spec());
    QVERIFY(service.start());
    QTRY_COMPARE_WITH_TIMEOUT(service.state(), Service::State::Healthy, 5000);
    const qint64 pid = service.pid();
    QVERIFY(alive(pid));
    QSignalSpy states(&service, &Service::stateChanged);
    service.stop();
    QTRY_COMPARE_WITH_TIMEOUT(service.state(), Service::State::Stopped, 3000);
    QVERIFY(!alive(pid));
    // No restart after a requested stop: its exit was handled (Stopped), and none is due.
    QVERIFY(!service.isRestartScheduled());
    QCOMPARE(service.restartCount(), 0);
}

void TestService::ignoredSigtermGetsSigkill()
{
    Service service(spec({u"--ignore-term"_qs}));
    QVERIFY(service.start());
    QTRY_COMPARE_WITH_TIMEOUT(service.state(), Service::State::Healthy, 5000);
    const qint64 pid = service.pid();
    QElapsedTimer t;
    t.start();
    service.stopAndWait();
    QVERIFY(t.elapsed() >= 900);  // waited the stop timeout ...
    QVERIFY(t.elapsed() < 4000);  // ... then SIGKILL
    QVERIFY(!alive(pid));
}

void TestService::portTakenIsAClearError()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, quint16(m_port)));
    Service service(spec());
    Status s = service.start();
    QVERIFY(!s);
    QVERIFY2(s.error().message.contains(u"port %1 on 127.0.0.1 is already in use"_qs.arg(m_port)), qPrintable(s.error().message));
    QVERIFY(s.error().hint.contains(u"[helper] port"_qs));
    QCOMPARE(service.state(), Service::State::Stopped);
    QCOMPARE(service.pid(), 0);
}

void TestService::missingProgram()
{
    ServiceSpec s = spec();
    s.program = u"/nonexistent/postgrest"_qs;
    Service service(s);
    Status st = service.start();
    QVERIFY(!st);
    QCOMPARE(st.error().message, u"Helper not found: /nonexistent/postgrest"_qs);
}

void TestService::unhealthyStartIsAFailure()
{
    ServiceSpec s = spec({u"--no-listen"_qs});
    s.startTimeoutMs = 600;
    Service service(s);
    QSignalSpy failures(&service, &Service::failed);
    QVERIFY(service.start());
    QTRY_VERIFY_WITH_TIMEOUT(!failures.isEmpty(), 5000);
    QVERIFY(failures[0].value(0).value<Error>().message.contains(u"did not become healthy within 600 ms"_qs));
    service.stopAndWait();
}

void TestService::httpStatusDecidesHealth()
{
    ServiceSpec s = spec({u"--status"_qs, u"503"_qs});
    s.startTimeoutMs = 800;
    Service service(s);
    QSignalSpy failures(&service, &Service::failed);
    QVERIFY(service.start());
    QTRY_VERIFY_WITH_TIMEOUT(!failures.isEmpty(), 5000);
    QVERIFY2(failures[0].value(0).value<Error>().message.contains(u"503"_qs),
             qPrintable(failures[0].value(0).value<Error>().message));
    service.stopAndWait();
}

void TestService::supervisorStartsNothingOnBadInput()
{
    ServiceSupervisor sup;
    Service *good = sup.add(spec());
    ServiceSpec bad = spec();
    bad.name = u"bad"_qs;
    bad.program = u"/nonexistent/pg_events_ws"_qs;
    bad.port = Scaffold::freePort(48001, 49000);
    sup.add(bad);
    Status s = sup.startAll();
    QVERIFY(!s);
    QCOMPARE(good->state(), Service::State::Stopped);
    QCOMPARE(good->pid(), 0);
}

void TestService::supervisorAllHealthy()
{
    ServiceSupervisor sup;
    sup.add(spec());
    ServiceSpec second = spec();
    second.name = u"second"_qs;
    second.port = Scaffold::freePort(48001, 49000);
    second.arguments = {QString::number(second.port)};
    second.logFile = m_dir->filePath(u"logs/second.log"_qs);
    sup.add(second);
    QSignalSpy healthy(&sup, &ServiceSupervisor::allHealthy);
    QVERIFY(sup.startAll());
    QTRY_COMPARE_WITH_TIMEOUT(healthy.size(), 1, 5000);
    QList<qint64> pids;
    for (Service *s : sup.services())
        pids << s->pid();
    sup.stopAllAndWait();
    for (qint64 pid : pids)
        QVERIFY(!alive(pid));
}

void TestService::logRotation()
{
    const QString path = m_dir->filePath(u"r/x.log"_qs);
    RotatingLog log(path, 1024, 3);
    QVERIFY(log.open());
    const QByteArray line(100, 'a');
    for (int i = 0; i < 60; ++i)
        log.append(line + '\n');
    log.close();
    const QStringList files = RotatingLog::files(path);
    QCOMPARE(files, (QStringList{path + u".2"_qs, path + u".1"_qs, path}));
    for (const QString &f : files)
        QVERIFY(QFileInfo(f).size() <= 1024);
    QVERIFY(!QFile::exists(path + u".3"_qs));
}

QTEST_GUILESS_MAIN(TestService)
#include "tst_service.moc"
