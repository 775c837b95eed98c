#pragma once

#include "result.h"
#include "rotatinglog.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTimer>

class QTcpSocket;

namespace Core {

// What a supervised program is and how to tell it works.
struct ServiceSpec
{
    QString name;                 // "postgrest", "realtime": also names the log file
    QString displayName;          // "PostgREST", for messages (default: name)
    QString program;              // absolute path
    QStringList arguments;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    QString workingDirectory;
    QString logFile;              // stdout + stderr are appended here, rotated
    qint64 logMaxBytes = 10 * 1024 * 1024;
    int logFiles = 3;

    // Health: a TCP connect to host:port, or, with healthPath, an HTTP GET that must
    // answer 2xx. The port must be free before each launch, so a health check never
    // mistakes another program for ours.
    QString host = u"127.0.0.1"_qs;
    int port = 0;
    QString healthPath;
    QString portSetting;          // where the port is configured, named in the error

    int startTimeoutMs = 20000;   // from launch (or from turning unhealthy) to healthy
    int startProbeIntervalMs = 50;
    int healthIntervalMs = 1000;
    int unhealthyThreshold = 3;   // failed checks in a row before a healthy service counts as down
    int stopTimeoutMs = 5000;     // SIGTERM, then SIGKILL after this

    int backoffInitialMs = 500;   // restart delays: 0.5 s, 1 s, 2 s, … 30 s
    int backoffMaxMs = 30000;
    int backoffResetMs = 30000;   // healthy this long: the next crash restarts quickly again

    QString label() const { return displayName.isEmpty() ? name : displayName; }
};

// One supervised child process (QProcess): started, health-checked, restarted with
// exponential backoff when it crashes or stops answering, stopped with SIGTERM then
// SIGKILL. Children run in their own process group (a terminal's Ctrl-C reaches only
// pgext, which stops them in order) and get SIGKILL if pgext dies (PR_SET_PDEATHSIG),
// so no process outlives its supervisor. Everything runs in the owner's event loop.
class Service : public QObject
{
    Q_OBJECT
public:
    enum class State { Stopped, Starting, Healthy, Failed };
    Q_ENUM(State)

    explicit Service(ServiceSpec spec, QObject *parent = nullptr);
    ~Service() override; // stops the process (blocking, at most stopTimeoutMs + 2 s)

    const ServiceSpec &spec() const { return m_spec; }
    const QString &name() const { return m_spec.name; }
    State state() const { return m_state; }
    static QString stateName(State state);
    qint64 pid() const;
    int restartCount() const { return m_restarts; }
    bool isRestartScheduled() const { return m_restartTimer.isActive(); }
    // Why the service last failed (empty message if it never did).
    const Error &lastError() const { return m_lastError; }
    // The last lines the program printed (for error details).
    QStringList recentOutput() const { return m_recent; }
    // Milliseconds since the current process was launched (0 when not running).
    qint64 uptimeMs() const;

    // The program exists and is executable, the port is free.
    Status preflight() const;
    // preflight(), then launches; from here on everything is asynchronous.
    Status start();
    // SIGTERM now, SIGKILL after stopTimeoutMs; stateChanged(Stopped) when gone.
    void stop();
    // The same, waiting until the process is gone.
    void stopAndWait();

Q_SIGNALS:
    void stateChanged(Core::Service::State state);
    void logLine(const QString &line);
    // The process died or stopped answering; it is restarted after restartInMs.
    void failed(const Core::Error &error, int restartInMs);

private:
    void launch();
    void setState(State state);
    void onOutput();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onFailure(Error error, bool killProcess);
    void tick();
    void probe();
    void probeDone(bool ok, const QString &why);
    void abortProbe();
    void supervisorLine(const QString &text);
    void emitLines(const QByteArray &bytes);
    void signalGroup(int signal);
    Error withOutput(Error error) const;

    ServiceSpec m_spec;
    State m_state = State::Stopped;
    bool m_wanted = false;
    QProcess *m_process = nullptr;
    RotatingLog m_log;
    QByteArray m_partial;
    QStringList m_recent;
    Error m_lastError;
    int m_restarts = 0;
    int m_backoffMs = 0;
    int m_failedChecks = 0;
    QString m_lastProbeError;
    QElapsedTimer m_launched;      // since the process started
    QElapsedTimer m_startClock;    // since launch or since turning unhealthy
    QElapsedTimer m_healthySince;
    QTimer m_healthTimer;
    QTimer m_restartTimer;
    QTimer m_killTimer;
    QPointer<QTcpSocket> m_probe;
    QByteArray m_probeBuffer;
    QTimer m_probeTimeout;
};

} // namespace Core
