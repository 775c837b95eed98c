#pragma once

#include "result.h"

#include <QHash>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStringList>

#include <optional>

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
    enum class Op { Eq, Neq, Lt, Lte, Gt, Gte, In, Is, Like, ILike };
    // A condition compiled at parse time: the operator as an enum, values converted to
    // the column's type once, like patterns as one regular expression.
    struct Condition
    {
        QString column;
        Op op = Op::Eq;
        bool negate = false;
        QStringList values;            // as written (in: the list items)
        TypeCategory type = TypeCategory::Text;
        struct Value
        {
            qint64 integer = 0;
            double number = 0;
            std::optional<qint64> time;  // microseconds
            bool boolean = false;
            QString text;                // uuid: lower case
        };
        QList<Value> compiled;
        QRegularExpression pattern;    // like/ilike
        enum class Is { Null, True, False } is = Is::Null;
    };
    // A column the row does not carry (an unchanged TOAST value, a column outside a
    // delete's replica identity): Fail makes its condition false, Ignore skips it.
    enum class Absent { Fail, Ignore };

    // `columns` maps every column of the table to its category; unknown columns are errors.
    static Result<RowFilter> parse(const QString &filter, const QHash<QString, TypeCategory> &columns);
    bool matches(const QJsonObject &row, Absent absent = Absent::Fail) const;
    bool isEmpty() const { return m_conditions.isEmpty(); }
    const QList<Condition> &conditions() const { return m_conditions; }
    // The columns the conditions read.
    QStringList columns() const;

    static TypeCategory categoryForType(const QString &typeName);
    // Microseconds since the epoch (UTC for values with a zone) for PostgreSQL and
    // ISO 8601 date/time text; nullopt when unparsable.
    static std::optional<qint64> parseTime(const QString &text, TypeCategory type);

private:
    bool holds(const Condition &c, const QJsonValue &cell) const;
    QList<Condition> m_conditions;
};

} // namespace Core
