#pragma once

#include "rowfilter.h"

#include <QHash>
#include <QJsonObject>
#include <QStringList>

namespace Realtime {

// What the server knows of a subscribed table, read from the catalog by OID. Events are
// matched by OID (names fold, get renamed and get reused); `fingerprint` changes with
// anything that could change a verdict (name, columns, RLS switches, grants, policies),
// and is compared on every batch that touches the table.
struct TableInfo
{
    quint32 relid = 0;
    QString schema;
    QString name;
    QStringList columnOrder;
    QHash<QString, Core::TypeCategory> columns;
    QHash<QString, QString> columnTypes;  // format_type()
    QStringList primaryKey;
    bool rowSecurity = false;             // RLS enabled (owners and BYPASSRLS roles may still bypass it)
    bool tracked = false;
    // Columns some policy reads; all columns when a policy uses the whole row.
    QStringList policyColumns;
    QString fingerprint;

    QString qualifiedName() const { return schema + u'.' + name; }
    // Does `row` hold every column (a REPLICA IDENTITY FULL old row, a complete new one)?
    bool isComplete(const QJsonObject &row) const
    {
        for (const QString &c : columnOrder)
            if (!row.contains(c))
                return false;
        return true;
    }
};

} // namespace Realtime
