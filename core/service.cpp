#include "service.h"

#include "logging.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QTcpServer>
#include <QTcpSocket>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace Core {

static constexpr int RecentLines = 40;
static constexpr int ProbeTimeoutMs = 2000;

Service::Service(ServiceSpec spec, QObject *parent)
    : QObject(parent), m_spec(std::move(spec)), m_log(m_spec.logFile, m_spec.logMaxBytes, m_spec.logFiles)
{
    m_backoffMs = m_spec.backoffInitialMs;
    m_healthTimer.setSingleShot(false);
    connect(&m_healthTimer, &QTimer::timeout, this, &Service::tick);
    m_restartTimer.setSingleShot(true);
    connect(&m_restartTimer, &QTimer::timeout, this, [this] {
        if (m_wanted) {
            ++m_restarts;
            launch();
        }
    });
    m_killTimer.setSingleShot(true);
    connect(&m_killTimer, &QTimer::timeout, this, [this] {
        if (m_process && m_process->state() != QProcess::NotRunning) {
            supervisorLine(u"did not stop within %1 ms; sending SIGKILL"_qs.arg(m_spec.stopTimeoutMs));
            signalGroup(SIGKILL);
        }
    });
    m_probeTimeout.setSingleShot(true);
    connect(&m_probeTimeout, &QTimer::timeout, this, [this] { probeDone(false, u"health check timed out"_qs); });
}

Service::~Service()
{
    stopAndWait();
}

QString Service::stateName(State state)
{
    switch (state) {
    case State::Stopped: return u"stopped"_qs;
    case State::Starting: return u"starting"_qs;
    case State::Healthy: return u"healthy"_qs;
    case State::Failed: return u"failed"_qs;
    }
    return {};
}

qint64 Service::pid() const
{
    return m_process ? m_process->processId() : 0;
}

qint64 Service::uptimeMs() const
{
    return m_process && m_launched.isValid() ? m_launched.elapsed() : 0;
}

static Status checkPort(const ServiceSpec &spec)
{
    if (spec.port <= 0)
        return {};
    QTcpServer probe;
    if (!probe.listen(QHostAddress(spec.host), quint16(spec.port))) {
        return Error::make(Error::Kind::Process,
                           u"%1 cannot start: port %2 on %3 is already in use by another program"_qs
                               .arg(spec.label()).arg(spec.port).arg(spec.host),
                           spec.portSetting.isEmpty()
                               ? u"Stop that program or choose another port."_qs
                               : u"Stop that program (see `ss -ltnp 'sport = :%1'`), or choose a free port: %2."_qs
                                     .arg(spec.port).arg(spec.portSetting));
    }
    return {};
}

Status Service::preflight() const
{
    const QFileInfo program(m_spec.program);
    if (m_spec.program.isEmpty() || !program.exists())
        return Error::make(Error::Kind::Process, u"%1 not found: %2"_qs.arg(m_spec.label(), m_spec.program));
    if (!program.isFile() || !program.isExecutable())
        return Error::make(Error::Kind::Process, u"%1 is not an executable file: %2"_qs.arg(m_spec.label(), m_spec.program),
                           u"chmod +x %1"_qs.arg(m_spec.program));
    return checkPort(m_spec);
}

Status Service::start()
{
    if (m_wanted && m_state != State::Stopped)
        return {};
    if (Status s = preflight(); !s)
        return s;
    if (Status s = m_log.open(); !s)
        return s;
    m_wanted = true;
    m_restarts = 0;
    m_backoffMs = m_spec.backoffInitialMs;
    m_lastError = {};
    launch();
    return {};
}

void Service::launch()
{
    m_restartTimer.stop();
    if (Status s = checkPort(m_spec); !s) {
        onFailure(s.error(), false);
        return;
    }
    auto *process = new QProcess(this);
    m_process = process;
    process->setProgram(m_spec.program);
    process->setArguments(m_spec.arguments);
    process->setProcessEnvironment(m_spec.environment);
    if (!m_spec.workingDirectory.isEmpty())
        process->setWorkingDirectory(m_spec.workingDirectory);
    process->setProcessChannelMode(QProcess::MergedChannels);
    process->setStandardInputFile(QProcess::nullDevice());
    const pid_t parent = ::getpid();
    process->setChildProcessModifier([parent] {
        // Only async-signal-safe calls here (between fork and exec).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL); // dies with pgext, whatever killed pgext
        if (::getppid() != parent)
            ::_exit(127);                   // pgext died before prctl took effect
        ::setpgid(0, 0);                    // Ctrl-C in the terminal reaches pgext only
    });
    connect(process, &QProcess::readyReadStandardOutput, this, [this, process] {
        if (process == m_process)
            onOutput();
    });
    connect(process, &QProcess::finished, this, [this, process](int code, QProcess::ExitStatus status) {
        if (process != m_process)
            return;
        onOutput();
        onFinished(code, status);
    });
    connect(process, &QProcess::errorOccurred, this, [this, process](QProcess::ProcessError error) {
        if (process != m_process || error != QProcess::FailedToStart)
            return;
        m_process = nullptr;
        process->deleteLater();
        onFailure(Error::make(Error::Kind::Process,
                              u"cannot start %1 (%2): %3"_qs.arg(m_spec.label(), m_spec.program, process->errorString())),
                  false);
    });
    m_partial.clear();
    m_failedChecks = 0;
    m_lastProbeError.clear();
    setState(State::Starting);
    process->start();
    if (m_process != process)
        return; // failed to start, handled above
    m_launched.start();
    m_startClock.start();
    supervisorLine(u"started %1 (pid %2)"_qs.arg(QFileInfo(m_spec.program).fileName()).arg(process->processId()));
    m_healthTimer.start(m_spec.startProbeIntervalMs);
}

void Service::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void Service::supervisorLine(const QString &text)
{
    const QString line = u"[pgext %1] %2: %3"_qs.arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs),
                                                      m_spec.name, text);
    m_log.append((line + u'\n').toUtf8());
    Q_EMIT logLine(line);
}

void Service::emitLines(const QByteArray &bytes)
{
    m_partial += bytes;
    qsizetype nl;
    while ((nl = m_partial.indexOf('\n')) >= 0) {
        QString line = QString::fromUtf8(m_partial.left(nl));
        if (line.endsWith(u'\r'))
            line.chop(1);
        m_partial.remove(0, nl + 1);
        m_recent << line;
        if (m_recent.size() > RecentLines)
            m_recent.removeFirst();
        Q_EMIT logLine(line);
    }
    if (m_partial.size() > 64 * 1024) { // a "line" without end: flush it anyway
        emitLines("\n");
    }
}

void Service::onOutput()
{
    if (!m_process)
        return;
    const QByteArray bytes = m_process->readAll();
    if (bytes.isEmpty())
        return;
    m_log.append(bytes);
    emitLines(bytes);
}

Error Service::withOutput(Error error) const
{
    if (!m_recent.isEmpty() && error.detail.isEmpty())
        error.detail = u"last output:\n    "_qs + m_recent.mid(qMax(0, int(m_recent.size()) - 8)).join(u"\n    "_qs);
    if (error.hint.isEmpty() && !m_spec.logFile.isEmpty())
        error.hint = u"Full log: %1"_qs.arg(m_spec.logFile);
    return error;
}

void Service::onFinished(int exitCode, QProcess::ExitStatus status)
{
    QProcess *process = m_process;
    m_process = nullptr;
    process->deleteLater();
    m_killTimer.stop();
    abortProbe();
    m_healthTimer.stop();
    const QString how = status == QProcess::CrashExit ? u"was killed by a signal"_qs
                                                      : u"exited with code %1"_qs.arg(exitCode);
    if (!m_wanted) {
        supervisorLine(u"stopped (%1)"_qs.arg(how));
        setState(State::Stopped);
        return;
    }
    onFailure(Error::make(Error::Kind::Process, u"%1 %2"_qs.arg(m_spec.label(), how)), false);
}

void Service::onFailure(Error error, bool killProcess)
{
    m_healthTimer.stop();
    abortProbe();
    if (killProcess && m_process) {
        QProcess *process = m_process;
        signalGroup(SIGKILL);
        m_process = nullptr; // its finished() is not a second failure
        process->waitForFinished(2000);
        process->deleteLater();
    }
    // A service that ran healthy for a while gets a quick restart again.
    if (m_healthySince.isValid() && m_healthySince.elapsed() >= m_spec.backoffResetMs)
        m_backoffMs = m_spec.backoffInitialMs;
    m_healthySince.invalidate();
    m_lastError = withOutput(std::move(error));
    const int delay = m_backoffMs;
    m_backoffMs = qMin(m_backoffMs * 2, m_spec.backoffMaxMs);
    supervisorLine(u"%1; restarting in %2 ms"_qs.arg(m_lastError.message).arg(delay));
    setState(State::Failed);
    Q_EMIT failed(m_lastError, delay);
    if (m_wanted)
        m_restartTimer.start(delay);
}

void Service::tick()
{
    if (!m_process)
        return;
    if (m_state == State::Starting && m_startClock.elapsed() > m_spec.startTimeoutMs) {
        const QString why = m_lastProbeError.isEmpty() ? QString() : u" (last check: %1)"_qs.arg(m_lastProbeError);
        onFailure(Error::make(Error::Kind::Process, u"%1 did not become healthy within %2 ms%3"_qs
                                                        .arg(m_spec.label()).arg(m_spec.startTimeoutMs).arg(why)),
                  true);
        return;
    }
    if (!m_probe)
        probe();
}

void Service::probe()
{
    if (m_spec.port <= 0) {
        probeDone(true, {}); // nothing to check: running is healthy
        return;
    }
    auto *socket = new QTcpSocket(this);
    m_probe = socket;
    m_probeBuffer.clear();
    connect(socket, &QTcpSocket::connected, this, [this, socket] {
        if (socket != m_probe)
            return;
        if (m_spec.healthPath.isEmpty()) {
            probeDone(true, {});
            return;
        }
        socket->write("GET " + m_spec.healthPath.toUtf8() + " HTTP/1.1\r\nHost: " + m_spec.host.toUtf8() + ':'
                      + QByteArray::number(m_spec.port) + "\r\nUser-Agent: pgext-supervisor\r\nConnection: close\r\n\r\n");
    });
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
        if (socket != m_probe)
            return;
        m_probeBuffer += socket->readAll();
        const qsizetype eol = m_probeBuffer.indexOf("\r\n");
        if (eol < 0)
            return;
        const QList<QByteArray> parts = m_probeBuffer.left(eol).split(' ');
        const int code = parts.size() >= 2 ? parts[1].toInt() : 0;
        if (code >= 200 && code < 300)
            probeDone(true, {});
        else
            probeDone(false, u"GET %1 answered %2"_qs.arg(m_spec.healthPath, QString::fromLatin1(m_probeBuffer.left(eol))));
    });
    connect(socket, &QTcpSocket::errorOccurred, this, [this, socket](QAbstractSocket::SocketError) {
        if (socket == m_probe)
            probeDone(false, socket->errorString());
    });
    m_probeTimeout.start(ProbeTimeoutMs);
    socket->connectToHost(m_spec.host, quint16(m_spec.port));
}

void Service::abortProbe()
{
    m_probeTimeout.stop();
    if (QTcpSocket *socket = m_probe) {
        m_probe = nullptr;
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
}

void Service::probeDone(bool ok, const QString &why)
{
    abortProbe();
    if (!m_process)
        return;
    if (ok) {
        m_failedChecks = 0;
        m_lastProbeError.clear();
        if (m_state != State::Healthy) {
            supervisorLine(u"healthy after %1 ms"_qs.arg(m_startClock.elapsed()));
            m_healthySince.start();
            setState(State::Healthy);
            m_healthTimer.start(m_spec.healthIntervalMs);
        }
        return;
    }
    m_lastProbeError = why;
    if (m_state == State::Healthy && ++m_failedChecks >= m_spec.unhealthyThreshold) {
        // Give it startTimeoutMs to recover (e.g. a database restart) before restarting it.
        supervisorLine(u"unhealthy: %1"_qs.arg(why));
        m_startClock.restart();
        m_healthySince.invalidate();
        setState(State::Starting);
        m_healthTimer.start(qMax(m_spec.startProbeIntervalMs, 200));
    }
}

void Service::signalGroup(int signal)
{
    if (!m_process || m_process->processId() <= 0)
        return;
    const pid_t pid = pid_t(m_process->processId());
    // The child made itself a group leader; signal the group so helpers it spawned go too.
    if (::kill(-pid, signal) != 0)
        ::kill(pid, signal);
}

void Service::stop()
{
    m_wanted = false;
    m_restartTimer.stop();
    m_healthTimer.stop();
    abortProbe();
    if (!m_process || m_process->state() == QProcess::NotRunning) {
        setState(State::Stopped);
        return;
    }
    if (!m_killTimer.isActive()) {
        supervisorLine(u"stopping (SIGTERM)"_qs);
        signalGroup(SIGTERM);
        m_killTimer.start(m_spec.stopTimeoutMs);
    }
}

void Service::stopAndWait()
{
    stop();
    if (!m_process)
        return;
    QProcess *process = m_process;
    if (process->state() == QProcess::Starting)
        process->waitForStarted(2000);
    if (!process->waitForFinished(m_spec.stopTimeoutMs)) {
        supervisorLine(u"did not stop within %1 ms; sending SIGKILL"_qs.arg(m_spec.stopTimeoutMs));
        signalGroup(SIGKILL);
        process->waitForFinished(2000);
    }
    // waitForFinished delivered finished() (→ onFinished) unless the process was stuck.
    if (m_process == process) {
        m_process = nullptr;
        process->deleteLater();
    }
    m_killTimer.stop();
    setState(State::Stopped);
}

} // namespace Core
