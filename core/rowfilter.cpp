#include "rowfilter.h"

#include <QRegularExpression>

#include <cmath>

namespace Core {

TypeCategory RowFilter::categoryForType(const QString &t)
{
    static const QHash<QString, TypeCategory> map = {
        {u"smallint"_qs, TypeCategory::Integer}, {u"integer"_qs, TypeCategory::Integer},
        {u"bigint"_qs, TypeCategory::Integer}, {u"oid"_qs, TypeCategory::Integer},
        {u"real"_qs, TypeCategory::Float}, {u"double precision"_qs, TypeCategory::Float},
        {u"numeric"_qs, TypeCategory::Numeric}, {u"money"_qs, TypeCategory::Other},
        {u"boolean"_qs, TypeCategory::Boolean},
        {u"text"_qs, TypeCategory::Text}, {u"character varying"_qs, TypeCategory::Text},
        {u"character"_qs, TypeCategory::Text}, {u"name"_qs, TypeCategory::Text}, {u"citext"_qs, TypeCategory::Text},
        {u"timestamp without time zone"_qs, TypeCategory::Timestamp},
        {u"timestamp with time zone"_qs, TypeCategory::TimestampTz},
        {u"date"_qs, TypeCategory::Date}, {u"time without time zone"_qs, TypeCategory::Time},
        {u"uuid"_qs, TypeCategory::Uuid}, {u"json"_qs, TypeCategory::Json}, {u"jsonb"_qs, TypeCategory::Json},
    };
    QString base = t;
    const qsizetype paren = base.indexOf(u'(');
    if (paren > 0) // numeric(10,2), character varying(20), timestamp(3) with time zone
        base = QString(base.left(paren) + base.mid(base.indexOf(u')', paren) + 1)).trimmed();
    return map.value(base, TypeCategory::Other);
}

std::optional<qint64> RowFilter::parseTime(const QString &text, TypeCategory type)
{
    // PostgreSQL ISO output ("2026-01-02 03:04:05.123+01") and ISO 8601 ("...T...Z").
    static const QRegularExpression re(
        u"^(\\d{4})-(\\d{2})-(\\d{2})(?:[ T](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,6}))?)?)?"
        "\\s*(Z|[+-]\\d{2}(?::?\\d{2})?(?::\\d{2})?)?$"_qs);
    static const QRegularExpression timeRe(u"^(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,6}))?)?$"_qs);
    if (type == TypeCategory::Time) {
        const auto m = timeRe.match(text.trimmed());
        if (!m.hasMatch())
            return std::nullopt;
        const qint64 us = QString(m.captured(4) + u"000000"_qs).left(6).toLongLong();
        return ((m.captured(1).toLongLong() * 60 + m.captured(2).toLongLong()) * 60 + m.captured(3).toLongLong()) * 1000000 + us;
    }
    const auto m = re.match(text.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    const QDate date(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt());
    if (!date.isValid())
        return std::nullopt;
    qint64 seconds = date.toJulianDay() * 86400 + m.captured(4).toLongLong() * 3600 + m.captured(5).toLongLong() * 60
                     + m.captured(6).toLongLong();
    const qint64 us = m.captured(7).isEmpty() ? 0 : QString(m.captured(7) + u"000000"_qs).left(6).toLongLong();
    const QString zone = m.captured(8);
    if (!zone.isEmpty() && zone != u"Z"_qs) {
        const int sign = zone[0] == u'-' ? -1 : 1;
        const QString digits = QString(zone.mid(1)).remove(u':');
        const qint64 offset = digits.left(2).toLongLong() * 3600 + digits.mid(2, 2).toLongLong() * 60 + digits.mid(4, 2).toLongLong();
        seconds -= sign * offset;
    }
    return seconds * 1000000 + us;
}

static Error invalid(const QString &message)
{
    Error e = Error::validation(message, u"Use PostgREST syntax: column=op.value joined with &, "
                                         "e.g. user_id=eq.42&done=is.false."_qs);
    e.code = u"invalid_filter"_qs;
    return e;
}

// in.(a,"b,c",d) → a | b,c | d
static Result<QStringList> parseList(const QString &text)
{
    if (!text.startsWith(u'(') || !text.endsWith(u')'))
        return invalid(u"in needs a parenthesised list, e.g. in.(1,2,3)"_qs);
    QStringList out;
    const QString inner = text.mid(1, text.size() - 2);
    QString current;
    bool quoted = false;
    bool wasQuoted = false;
    for (qsizetype i = 0; i < inner.size(); ++i) {
        const QChar c = inner[i];
        if (quoted) {
            if (c == u'\\' && i + 1 < inner.size())
                current += inner[++i];
            else if (c == u'"')
                quoted = false;
            else
                current += c;
        } else if (c == u'"') {
            quoted = wasQuoted = true;
        } else if (c == u',') {
            out << (wasQuoted ? current : current.trimmed());
            current.clear();
            wasQuoted = false;
        } else {
            current += c;
        }
    }
    if (quoted)
        return invalid(u"unterminated quote in list"_qs);
    if (!inner.isEmpty() || wasQuoted)
        out << (wasQuoted ? current : current.trimmed());
    return out;
}

static double parseNumber(const QString &s, bool *ok)
{
    if (s == u"NaN"_qs) {
        *ok = true;
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (s == u"Infinity"_qs) {
        *ok = true;
        return std::numeric_limits<double>::infinity();
    }
    if (s == u"-Infinity"_qs) {
        *ok = true;
        return -std::numeric_limits<double>::infinity();
    }
    return s.toDouble(ok);
}

static QRegularExpression likePattern(const QString &pattern, bool caseInsensitive)
{
    QString re = u"\\A"_qs;
    for (const QChar c : pattern) {
        if (c == u'*' || c == u'%')
            re += u".*"_qs;
        else if (c == u'_')
            re += u'.';
        else
            re += QRegularExpression::escape(QString(c));
    }
    re += u"\\z"_qs;
    QRegularExpression::PatternOptions options = QRegularExpression::DotMatchesEverythingOption;
    if (caseInsensitive)
        options |= QRegularExpression::CaseInsensitiveOption;
    QRegularExpression rx(re, options);
    rx.optimize();
    return rx;
}

Result<RowFilter> RowFilter::parse(const QString &filter, const QHash<QString, TypeCategory> &columns)
{
    static const QHash<QString, Op> ops = {{u"eq"_qs, Op::Eq}, {u"neq"_qs, Op::Neq}, {u"lt"_qs, Op::Lt},
                                           {u"lte"_qs, Op::Lte}, {u"gt"_qs, Op::Gt}, {u"gte"_qs, Op::Gte},
                                           {u"in"_qs, Op::In}, {u"is"_qs, Op::Is}, {u"like"_qs, Op::Like},
                                           {u"ilike"_qs, Op::ILike}};
    RowFilter f;
    if (filter.trimmed().isEmpty())
        return f;
    for (const QString &part : filter.split(u'&')) {
        const qsizetype eq = part.indexOf(u'=');
        if (eq <= 0)
            return invalid(u"\"%1\" is not column=op.value"_qs.arg(part));
        Condition c;
        c.column = part.left(eq);
        if (!columns.contains(c.column))
            return invalid(u"unknown column \"%1\""_qs.arg(c.column));
        c.type = columns.value(c.column);
        QString rest = part.mid(eq + 1);
        if (rest.startsWith(u"not."_qs)) {
            c.negate = true;
            rest = rest.mid(4);
        }
        const qsizetype dot = rest.indexOf(u'.');
        const QString opName = dot < 0 ? rest : rest.left(dot);
        const auto op = ops.constFind(opName);
        if (op == ops.constEnd())
            return invalid(u"unknown operator \"%1\" for column \"%2\""_qs.arg(opName, c.column));
        c.op = *op;
        if (dot < 0)
            return invalid(u"operator %1 on \"%2\" needs a value (%1.value)"_qs.arg(opName, c.column));
        const QString value = rest.mid(dot + 1);
        if (c.op == Op::In) {
            auto list = parseList(value);
            if (!list)
                return list.error();
            c.values = *list;
        } else if (c.op == Op::Is) {
            const QString v = value.toLower();
            if (v == u"null"_qs || v == u"unknown"_qs)
                c.is = Condition::Is::Null;
            else if (v == u"true"_qs)
                c.is = Condition::Is::True;
            else if (v == u"false"_qs)
                c.is = Condition::Is::False;
            else
                return invalid(u"is takes null, true, false or unknown, not \"%1\""_qs.arg(value));
            c.values = {v};
        } else {
            c.values = {value};
        }
        if (c.op == Op::Like || c.op == Op::ILike) {
            if (c.type != TypeCategory::Text && c.type != TypeCategory::Other && c.type != TypeCategory::Uuid)
                return invalid(u"%1 works on text columns; \"%2\" is not one"_qs.arg(opName, c.column));
            c.pattern = likePattern(value, c.op == Op::ILike);
        } else if (c.op != Op::Is) {
            // Values are converted to the column's type now, not at every row.
            for (const QString &v : std::as_const(c.values)) {
                Condition::Value cv;
                bool ok = true;
                switch (c.type) {
                case TypeCategory::Integer: cv.integer = v.toLongLong(&ok); break;
                case TypeCategory::Float:
                case TypeCategory::Numeric: cv.number = parseNumber(v, &ok); break;
                case TypeCategory::Boolean: {
                    const QString b = v.toLower();
                    ok = b == u"true"_qs || b == u"false"_qs || b == u"t"_qs || b == u"f"_qs;
                    cv.boolean = b == u"true"_qs || b == u"t"_qs;
                    break;
                }
                case TypeCategory::Timestamp:
                case TypeCategory::TimestampTz:
                case TypeCategory::Date:
                case TypeCategory::Time:
                    cv.time = parseTime(v, c.type);
                    ok = cv.time.has_value();
                    break;
                case TypeCategory::Uuid: cv.text = v.toLower(); break;
                default: cv.text = v; break;
                }
                if (!ok)
                    return invalid(u"\"%1\" is not a valid value for column \"%2\""_qs.arg(v, c.column));
                c.compiled << cv;
            }
        }
        f.m_conditions << c;
    }
    return f;
}

QStringList RowFilter::columns() const
{
    QStringList out;
    for (const Condition &c : m_conditions)
        if (!out.contains(c.column))
            out << c.column;
    return out;
}

// <0, 0, >0, or nullopt when the two cannot be compared (null, unparsable).
static std::optional<int> compare(const QJsonValue &cell, const RowFilter::Condition::Value &value, TypeCategory type)
{
    if (cell.isNull() || cell.isUndefined())
        return std::nullopt;
    auto three = [](auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); };
    switch (type) {
    case TypeCategory::Integer: {
        // A number beyond 64 bits arrives as its text: compare it as a number.
        if (cell.isString()) {
            bool ok = false;
            const qint64 a = cell.toString().toLongLong(&ok);
            if (ok)
                return three(a, value.integer);
            return three(cell.toString().toDouble(), double(value.integer));
        }
        return three(cell.toInteger(), value.integer);
    }
    case TypeCategory::Float:
    case TypeCategory::Numeric: {
        bool ok = true;
        const double a = cell.isDouble() ? cell.toDouble() : parseNumber(cell.toString(), &ok);
        if (!ok)
            return std::nullopt;
        const double b = value.number;
        if (std::isnan(a) || std::isnan(b)) // PostgreSQL: NaN equals NaN and sorts above everything
            return std::isnan(a) && std::isnan(b) ? 0 : (std::isnan(a) ? 1 : -1);
        return three(a, b);
    }
    case TypeCategory::Boolean: {
        const bool a = cell.isBool() ? cell.toBool() : (cell.toString() == u"t"_qs || cell.toString() == u"true"_qs);
        return three(int(a), int(value.boolean));
    }
    case TypeCategory::Timestamp:
    case TypeCategory::TimestampTz:
    case TypeCategory::Date:
    case TypeCategory::Time: {
        const auto a = RowFilter::parseTime(cell.toString(), type);
        if (!a || !value.time)
            return std::nullopt;
        return three(*a, *value.time);
    }
    case TypeCategory::Uuid:
        return three(cell.toString().toLower(), value.text);
    default: {
        const QString a = cell.isString() ? cell.toString()
                          : cell.isDouble() ? QString::number(cell.toDouble(), 'g', 17)
                          : cell.isBool()   ? (cell.toBool() ? u"true"_qs : u"false"_qs)
                                            : QString();
        return three(a, value.text);
    }
    }
}

bool RowFilter::holds(const Condition &c, const QJsonValue &cell) const
{
    switch (c.op) {
    case Op::Is:
        if (c.is == Condition::Is::Null)
            return cell.isNull();
        return cell.isBool() && cell.toBool() == (c.is == Condition::Is::True);
    case Op::In:
        for (const Condition::Value &v : c.compiled)
            if (compare(cell, v, c.type) == 0)
                return true;
        return false;
    case Op::Like:
    case Op::ILike:
        return cell.isString() && c.pattern.match(cell.toString()).hasMatch();
    default:
        break;
    }
    const auto cmp = compare(cell, c.compiled.first(), c.type);
    if (!cmp)
        return false;
    switch (c.op) {
    case Op::Eq: return *cmp == 0;
    case Op::Neq: return *cmp != 0;
    case Op::Lt: return *cmp < 0;
    case Op::Lte: return *cmp <= 0;
    case Op::Gt: return *cmp > 0;
    case Op::Gte: return *cmp >= 0;
    default: return false;
    }
}

bool RowFilter::matches(const QJsonObject &row, Absent absent) const
{
    for (const Condition &c : m_conditions) {
        const auto it = row.constFind(c.column);
        if (it == row.constEnd()) {
            // Not judgeable: never a match by accident (is.null on a value we do not have).
            if (absent == Absent::Ignore)
                continue;
            return false;
        }
        const QJsonValue cell = *it;
        // SQL: anything but IS compared with NULL is unknown, and NOT unknown is still
        // unknown (NULL NOT IN (1,2) and NULL NOT LIKE 'x' are not true either).
        if (c.op != Op::Is && cell.isNull())
            return false;
        if (holds(c, cell) == c.negate)
            return false;
    }
    return true;
}

} // namespace Core
