#include "servicesupervisor.h"

#include <QSet>

namespace Core {

ServiceSupervisor::ServiceSupervisor(QObject *parent) : QObject(parent)
{
}

ServiceSupervisor::~ServiceSupervisor()
{
    stopAllAndWait();
}

Service *ServiceSupervisor::add(ServiceSpec spec)
{
    Q_ASSERT(!service(spec.name));
    auto *s = new Service(std::move(spec), this);
    m_services << s;
    connect(s, &Service::stateChanged, this, [this, s](Service::State state) { onStateChanged(s, state); });
    connect(s, &Service::logLine, this, [this, s](const QString &line) { Q_EMIT logLine(s->name(), line); });
    connect(s, &Service::failed, this, [this, s](const Error &error, int restartInMs) {
        if (!m_running)
            return;
        if (!m_everHealthy.contains(s))
            Q_EMIT startFailed(s->name(), error);
        else
            Q_EMIT serviceFailed(s->name(), error, restartInMs);
    });
    return s;
}

Service *ServiceSupervisor::service(const QString &name) const
{
    for (Service *s : m_services)
        if (s->name() == name)
            return s;
    return nullptr;
}

Status ServiceSupervisor::startAll()
{
    for (Service *s : std::as_const(m_services))
        if (Status st = s->preflight(); !st)
            return st;
    m_running = true;
    m_everHealthy.clear();
    m_reportedAllHealthy = false;
    for (Service *s : std::as_const(m_services)) {
        if (Status st = s->start(); !st) {
            stopAllAndWait();
            return st;
        }
    }
    return {};
}

bool ServiceSupervisor::isAllHealthy() const
{
    for (Service *s : m_services)
        if (s->state() != Service::State::Healthy)
            return false;
    return true;
}

void ServiceSupervisor::onStateChanged(Service *service, Service::State state)
{
    Q_EMIT serviceStateChanged(service->name(), state);
    if (state == Service::State::Healthy)
        m_everHealthy.insert(service);
    if (!m_running) {
        bool allStopped = true;
        for (Service *s : std::as_const(m_services))
            allStopped = allStopped && s->state() == Service::State::Stopped;
        if (allStopped && state == Service::State::Stopped)
            Q_EMIT stopped();
        return;
    }
    if (isAllHealthy()) {
        if (!m_reportedAllHealthy) {
            m_reportedAllHealthy = true;
            Q_EMIT allHealthy();
        }
    } else {
        m_reportedAllHealthy = false;
    }
}

void ServiceSupervisor::stopAll()
{
    m_running = false;
    bool allStopped = true;
    for (Service *s : std::as_const(m_services)) {
        s->stop();
        allStopped = allStopped && s->state() == Service::State::Stopped;
    }
    if (allStopped)
        Q_EMIT stopped();
}

void ServiceSupervisor::stopAllAndWait()
{
    m_running = false;
    // SIGTERM to all first, then wait: they shut down in parallel.
    for (Service *s : std::as_const(m_services))
        s->stop();
    for (Service *s : std::as_const(m_services))
        s->stopAndWait();
}

} // namespace Core
