#pragma once

#include "authorizer.h"
#include "eventcursor.h"
#include "rowfilter.h"

#include <QByteArray>
#include <QPointer>
#include <QSet>

#include <optional>
#include <vector>

namespace Realtime {

class Session;

// One client subscription: to a table's changes or to a channel's events.
struct Subscription
{
    enum class State { Pending, Replaying, Live, Closed };

    QString id;
    QPointer<Session> session;
    State state = State::Pending;
    bool isChannel = false;
    QString table;                 // schema.table
    QString channel;
    TableInfo info;
    Core::RowFilter filter;
    QSet<QString> events = {u"insert"_qs, u"update"_qs, u"delete"_qs};
    QStringList select;            // empty: all columns
    std::optional<Core::EventCursor> since;
    // Live events that arrive while a replay is being prepared; sent right after it.
    std::vector<QByteArray> buffered;
};

} // namespace Realtime
