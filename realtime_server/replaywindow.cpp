#include "replaywindow.h"

#include <algorithm>

namespace Realtime {

WindowEntryPtr WindowEntry::make(Core::PgEvent event, const QString &commitTime, quint64 txLsn, qint64 receivedMs, qint64 bytes)
{
    auto e = std::make_shared<WindowEntry>();
    e->commitTime = commitTime;
    e->txLsn = txLsn;
    e->receivedMs = receivedMs;
    e->bytes = bytes;
    if (event.op == Core::PgEvent::Op::Insert || event.op == Core::PgEvent::Op::Update) {
        e->row = event.newTuple;
        // An unchanged TOAST value is the old row's value: the replica identity may carry it.
        for (const QString &c : std::as_const(event.unchangedToast)) {
            if (event.hasOld && event.oldTuple.contains(c))
                e->row.insert(c, event.oldTuple.value(c));
            else
                e->unchanged << c;
        }
    }
    e->event = std::move(event);
    return e;
}

void ReplayWindow::append(WindowEntryPtr entry)
{
    m_bytes += entry->bytes;
    m_entries.push_back(std::move(entry));
}

int ReplayWindow::trim(qint64 nowMs)
{
    int dropped = 0;
    // Whole transactions go together, so a confirmed position never splits one.
    while (!m_entries.empty()
           && (int(m_entries.size()) > m_limits.maxEvents || m_bytes > m_limits.maxBytes
               || nowMs - m_entries.front()->receivedMs > m_limits.maxAgeMs)) {
        const quint64 tx = m_entries.front()->txLsn;
        while (!m_entries.empty() && m_entries.front()->txLsn == tx) {
            m_horizon = std::max(m_horizon, m_entries.front()->cursor());
            m_bytes -= m_entries.front()->bytes;
            m_entries.pop_front();
            ++dropped;
        }
    }
    return dropped;
}

void ReplayWindow::reset(const Core::EventCursor &horizon)
{
    m_entries.clear();
    m_bytes = 0;
    m_horizon = std::max(m_horizon, horizon);
}

std::vector<WindowEntryPtr> ReplayWindow::after(const Core::EventCursor &since) const
{
    auto it = std::upper_bound(m_entries.begin(), m_entries.end(), since,
                               [](const Core::EventCursor &c, const WindowEntryPtr &e) { return c < e->cursor(); });
    return {it, m_entries.end()};
}

void ReplayWindow::setHorizon(const Core::EventCursor &horizon)
{
    m_horizon = std::max(m_horizon, horizon);
}

} // namespace Realtime
