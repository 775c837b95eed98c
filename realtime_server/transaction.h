#pragma once

#include "pgevent.h"

#include <vector>

namespace Realtime {

// A piece of one committed transaction as pg_events sent it, in commit order. Large
// transactions arrive in several chunks (first ... last) so that no process ever holds a
// whole ten-million-row transaction; pg_events decodes only committed transactions, so
// a chunk can be delivered before its transaction's last one arrives.
struct TransactionChunk
{
    quint64 xid = 0;
    quint64 lsn = 0;      // commit LSN (start of the commit record): part of every cursor
    quint64 endLsn = 0;   // end of the commit record
    QString commitTime;
    std::vector<Core::PgEvent> events; // changes and messages, in sequence order
    qint64 bytes = 0;
    bool first = true;
    bool last = true;
};

} // namespace Realtime
