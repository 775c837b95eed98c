#pragma once

#include "error.h"
#include "identity.h"
#include "tableinfo.h"

#include <QHash>
#include <QJsonObject>
#include <QSet>

#include <functional>
#include <optional>
#include <vector>

namespace Realtime {

// The questions the pipeline asks PostgreSQL about a batch of transactions, all in one
// round trip. The Authorizer answers them; unit tests answer them from memory.
struct CheckRequest
{
    // Transactions whose effects must be visible before anything is judged (a commit can
    // be decoded before new snapshots see it). Empty for replays of old transactions.
    std::vector<quint64> xids;
    // Tables whose catalog fingerprint is compared with TableInfo::fingerprint.
    std::vector<quint32> tables;
    // (role, table): may the server switch to the role, and may the role SELECT?
    std::vector<std::pair<QString, quint32>> privileges;
    // Row images judged under a table's row-level security as an identity.
    struct Group
    {
        Identity who;
        quint32 relid = 0;
        std::vector<QJsonObject> images;
    };
    std::vector<Group> groups;
    bool isEmpty() const { return xids.empty() && tables.empty() && privileges.empty() && groups.empty(); }
};

struct CheckReply
{
    enum class Status {
        Ok,
        NotVisible,   // a transaction is not visible yet: ask again shortly
        Unavailable,  // PostgreSQL could not answer (connection, shutdown, overload): ask again later
    };
    Status status = Status::Ok;
    Core::Error error;                      // Unavailable: why
    QHash<quint32, QString> fingerprints;   // a table that is gone is missing
    QSet<QString> denied;                   // "role\x1frelid" without the privilege
    struct Group
    {
        std::optional<Core::Error> error;   // this identity's check failed (a policy error, a refused role)
        QSet<int> visible;                  // positions in the group's images
    };
    std::vector<Group> groups;

    static QString privilegeKey(const QString &role, quint32 relid) { return role + u'\x1f' + QString::number(relid); }
};

class Checker
{
public:
    virtual ~Checker() = default;
    using Done = std::function<void(CheckReply)>;
    // `replay`: a question for one subscriber's history, answered after live batches.
    virtual void check(CheckRequest request, bool replay, Done done) = 0;
    // Reads the tables again (their fingerprint changed); a table that is gone maps to
    // nullopt. Unavailable PostgreSQL: an error, ask again later.
    using TablesDone = std::function<void(Core::Result<QHash<quint32, std::optional<TableInfo>>>)>;
    virtual void reloadTables(const QList<quint32> &relids, TablesDone done) = 0;
};

} // namespace Realtime
