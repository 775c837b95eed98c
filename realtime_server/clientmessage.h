#pragma once

#include "eventcursor.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace Realtime {

// Which row operations a table subscription wants (bit mask).
enum EventMask : unsigned { WantInsert = 1, WantUpdate = 2, WantDelete = 4, WantAll = 7 };

// One message from a client, parsed and checked for shape (docs/PROTOCOL.md). What
// needs the database (does the table exist, may the role read it) is checked later.
struct ClientMessage
{
    enum class Type { Ping, Auth, Subscribe, Unsubscribe };

    Type type = Type::Ping;
    QString ref;                 // echoed in the reply (at most 256 characters)
    QString token;               // auth
    QString id;                  // subscribe, unsubscribe
    // subscribe
    bool isChannel = false;
    QString schema;              // exact, case-sensitive catalog names (as PostgREST)
    QString table;
    QString channel;
    QString filter;
    QStringList select;          // empty: every column
    unsigned events = WantAll;
    std::optional<Core::EventCursor> since;

    QString qualifiedTable() const { return schema + u'.' + table; }

    static struct ParsedClientMessage parse(const QByteArray &text);
};

// A message that cannot be taken: the error reply to send.
struct ClientMessageProblem
{
    QString code;
    QString message;
    QString id;              // the subscription it names, when known
    QString ref;
};

struct ParsedClientMessage
{
    std::optional<ClientMessage> message;
    ClientMessageProblem problem;  // when !message
};

} // namespace Realtime
