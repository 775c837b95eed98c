#pragma once

#include "eventcursor.h"
#include "pgevent.h"

#include <QDateTime>

#include <deque>
#include <memory>

namespace Realtime {

// One retained event with the transaction facts a client message needs.
struct WindowEntry
{
    Core::PgEvent event;
    QString commitTime;
    quint64 txLsn = 0;
    qint64 receivedMs = 0;
    qint64 bytes = 0;
    // Insert/update: the new row with unchanged TOAST values taken from the old row
    // where the replica identity provides them; `unchanged` lists the ones still absent.
    QJsonObject row;
    QStringList unchanged;

    Core::EventCursor cursor() const { return event.cursor(); }
    static std::shared_ptr<const WindowEntry> make(Core::PgEvent event, const QString &commitTime, quint64 txLsn,
                                                   qint64 receivedMs, qint64 bytes);
};
using WindowEntryPtr = std::shared_ptr<const WindowEntry>;

// The events a reconnecting client can still ask for, bounded by count, bytes and age.
// `horizon` is the newest cursor known to be gone: a `since` older than it cannot be
// served without a gap, so the answer is cursor_too_old.
class ReplayWindow
{
public:
    struct Limits
    {
        int maxEvents = 100000;
        qint64 maxBytes = 64LL * 1024 * 1024;
        qint64 maxAgeMs = 10LL * 60 * 1000;
    };

    ReplayWindow() = default;
    explicit ReplayWindow(Limits limits) : m_limits(limits) {}

    void append(WindowEntryPtr entry);
    // Drops what the limits no longer allow, whole transactions at a time, oldest first.
    // Returns how many entries were dropped.
    int trim(qint64 nowMs);
    // Forgets everything: history before `horizon` is gone (a lost slot).
    void reset(const Core::EventCursor &horizon);

    bool canServe(const Core::EventCursor &since) const { return !(since < m_horizon); }
    // Entries with cursor > since, oldest first.
    std::vector<WindowEntryPtr> after(const Core::EventCursor &since) const;

    void setHorizon(const Core::EventCursor &horizon);
    Core::EventCursor horizon() const { return m_horizon; }
    bool isEmpty() const { return m_entries.empty(); }
    // Commit LSN of the oldest retained transaction (what may be confirmed to PostgreSQL).
    quint64 oldestTransactionLsn() const { return m_entries.empty() ? 0 : m_entries.front()->txLsn; }
    int size() const { return int(m_entries.size()); }
    qint64 bytes() const { return m_bytes; }
    const Limits &limits() const { return m_limits; }

private:
    Limits m_limits;
    std::deque<WindowEntryPtr> m_entries;
    qint64 m_bytes = 0;
    Core::EventCursor m_horizon;
};

} // namespace Realtime
