#pragma once

#include "asyncconnection.h"
#include "rowfilter.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSet>

#include <functional>
#include <memory>
#include <vector>

namespace Realtime {

// What a subscriber needs to know about a table, read once from the catalog.
struct TableInfo
{
    QString name;                                  // schema.table
    QHash<QString, Core::TypeCategory> columns;
    QHash<QString, QString> columnTypes;           // format_type()
    QStringList primaryKey;
    bool rowSecurity = false;                      // RLS enabled (owners may still bypass it)
    bool tracked = false;
};

// Who a connection acts as. Subscribers with the same identity share RLS checks.
struct Identity
{
    QString role;
    QJsonObject claims;   // empty for the anonymous role
    QString key() const;  // role + canonical claims
};

// Privilege and row-level-security checks against PostgreSQL, through a small pool of
// non-blocking connections. RLS visibility is asked once per (transaction, table,
// identity) for all rows at once — never one query per subscriber per row.
class Authorizer : public QObject
{
    Q_OBJECT
public:
    Authorizer(QString conninfo, int poolSize, QObject *parent = nullptr);

    void open();
    bool isReady() const;

    using TableCallback = std::function<void(const Core::Result<TableInfo> &)>;
    using AllowCallback = std::function<void(const Core::Result<bool> &)>;
    using VisibleCallback = std::function<void(const QSet<QString> &visibleKeys, bool failed)>;

    void tableInfo(const QString &table, TableCallback done);
    // SELECT privilege on the table as the identity's role.
    void canSelect(const Identity &who, const QString &table, AllowCallback done);
    // pg_events.authorize_channel(channel) as the identity, or the default rule.
    void canListen(const Identity &who, const QString &channel, const QString &anonRole, AllowCallback done);
    // Which of `rows` (new tuples) the identity can see now. Keys are rowKey() strings.
    // `xid` (0 = skip) is the transaction that wrote them: a commit can be decoded before
    // it is visible to new snapshots, so the check waits until it is.
    void visibleRows(const Identity &who, const TableInfo &table, const std::vector<QJsonObject> &rows, quint64 xid,
                     VisibleCallback done, int attempt = 0);

    // pg_current_wal_lsn(), for the lag metric.
    void currentWalLsn(std::function<void(quint64)> done);

    static QString rowKey(const TableInfo &table, const QJsonObject &row);
    void forgetTables() { m_tables.clear(); }
    int queriesSent() const { return m_queries; }

private:
    Core::AsyncConnection *pick();
    QString asIdentity(const Identity &who, const QString &query) const;

    QString m_conninfo;
    std::vector<Core::AsyncConnection *> m_pool;
    QHash<QString, TableInfo> m_tables;
    int m_queries = 0;
    int m_hasAuthorizeChannel = -1; // unknown
};

} // namespace Realtime
