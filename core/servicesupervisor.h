#pragma once

#include "service.h"

#include <QList>
#include <QObject>
#include <QSet>

namespace Core {

// A set of Services started and stopped together (pgext dev, the studio). startAll()
// checks every service before starting any, so a taken port or a missing binary leaves
// nothing running. A service that fails before it was ever healthy in this run is a
// start failure (startFailed); after that, failures are restarts with backoff.
class ServiceSupervisor : public QObject
{
    Q_OBJECT
public:
    explicit ServiceSupervisor(QObject *parent = nullptr);
    ~ServiceSupervisor() override; // stops everything (blocking)

    // Takes ownership; names must be unique.
    Service *add(ServiceSpec spec);
    Service *service(const QString &name) const;
    const QList<Service *> &services() const { return m_services; }

    Status startAll();
    void stopAll();          // asynchronous; stopped() when every process is gone
    void stopAllAndWait();   // blocking
    bool isAllHealthy() const;
    bool isRunning() const { return m_running; }

Q_SIGNALS:
    void allHealthy();
    void startFailed(const QString &service, const Core::Error &error);
    void serviceStateChanged(const QString &service, Core::Service::State state);
    void serviceFailed(const QString &service, const Core::Error &error, int restartInMs);
    void logLine(const QString &service, const QString &line);
    void stopped();

private:
    void onStateChanged(Service *service, Service::State state);

    QList<Service *> m_services;
    QSet<Service *> m_everHealthy;
    bool m_running = false;
    bool m_reportedAllHealthy = false;
};

} // namespace Core
