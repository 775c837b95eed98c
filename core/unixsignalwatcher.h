#pragma once

#include <QList>
#include <QObject>

class QSocketNotifier;

namespace Core {

// Turns SIGINT/SIGTERM (or any set) into a Qt signal on the main thread (self-pipe:
// the handler only writes one byte, everything else happens in the event loop).
class UnixSignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignalWatcher(const QList<int> &signalNumbers, QObject *parent = nullptr);
    ~UnixSignalWatcher() override;

Q_SIGNALS:
    void received(int signalNumber);

private:
    QSocketNotifier *m_notifier = nullptr;
    QList<int> m_signals;
};

} // namespace Core
