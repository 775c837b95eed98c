#pragma once

#include "result.h"

#include <QHash>
#include <QJsonObject>
#include <QStringList>

namespace Core {

// How a column's values compare. Derived from pg_type (see categoryForType).
enum class TypeCategory { Integer, Float, Numeric, Boolean, Text, Timestamp, TimestampTz, Date, Time, Uuid, Json, Other };

// PostgREST's horizontal filter grammar applied to a decoded row:
//   col=op.value[&col=op.value...]   (all conditions must hold)
// ops: eq neq lt lte gt gte in.(a,b,"c,d") is.null|true|false like ilike, each may be
// prefixed with not. (not.eq.5). like/ilike take * or % as the wildcard. Values compare
// with the column's type semantics: numbers as numbers, timestamps as instants, booleans
// as booleans, uuids case-insensitively, text by code point (C collation).
class RowFilter
{
public:
    struct Condition
    {
        QString column;
        QString op;
        bool negate = false;
        QStringList values;
        TypeCategory type = TypeCategory::Text;
    };

    // `columns` maps every column of the table to its category; unknown columns are errors.
    static Result<RowFilter> parse(const QString &filter, const QHash<QString, TypeCategory> &columns);
    bool matches(const QJsonObject &row) const;
    bool isEmpty() const { return m_conditions.isEmpty(); }
    const QList<Condition> &conditions() const { return m_conditions; }

    static TypeCategory categoryForType(const QString &typeName);
    // Microseconds since the epoch (UTC for values with a zone) for PostgreSQL and
    // ISO 8601 date/time text; nullopt when unparsable.
    static std::optional<qint64> parseTime(const QString &text, TypeCategory type);

private:
    QList<Condition> m_conditions;
};

} // namespace Core
