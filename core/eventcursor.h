#pragma once

#include <QString>

#include <compare>
#include <optional>

namespace Core {

// PostgreSQL WAL positions ("16/B374D848").
namespace Lsn {
std::optional<quint64> parse(QStringView text);
QString format(quint64 lsn);
}

// Identifies one pg_events change: (commit LSN, sequence within the transaction). Totally
// ordered, the same on every server reading the same database. A per-change LSN would not
// do: several changes share one, and a message's LSN is the end of its record.
struct EventCursor
{
    quint64 lsn = 0;
    quint32 seq = 0;

    // Opaque to clients: "<16 hex digits>.<8 hex digits>", ordered like the cursor.
    QString toString() const;
    static std::optional<EventCursor> parse(QStringView text);
    bool isNull() const { return lsn == 0 && seq == 0; }

    friend auto operator<=>(const EventCursor &, const EventCursor &) = default;
    friend bool operator==(const EventCursor &, const EventCursor &) = default;
};

} // namespace Core
