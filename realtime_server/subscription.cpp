#include "subscription.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace Realtime {

using Core::Error;
using Core::PgEvent;

static QByteArray jsonString(const QString &s)
{
    const QByteArray array = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

static Error filterError(const QString &message)
{
    Error e = Error::validation(message);
    e.code = u"invalid_filter"_qs;
    return e;
}

Core::Result<std::shared_ptr<Subscription>> Subscription::forTable(const ClientMessage &m, std::shared_ptr<const TableInfo> info,
                                                                   SubscriberSink *sink)
{
    auto sub = std::shared_ptr<Subscription>(new Subscription);
    sub->m_id = m.id;
    sub->m_idJson = jsonString(m.id);
    sub->m_tableName = m.qualifiedTable();
    sub->m_filterText = m.filter;
    sub->m_select = m.select;
    sub->m_variant = m.select.join(u',');
    sub->m_events = m.events;
    sub->since = m.since;
    if (m.since)
        sub->lastSent = *m.since;
    sub->sink = sink;
    if (auto e = sub->rebind(std::move(info)))
        return *e;
    return sub;
}

std::shared_ptr<Subscription> Subscription::forChannel(const ClientMessage &m, SubscriberSink *sink)
{
    auto sub = std::shared_ptr<Subscription>(new Subscription);
    sub->m_id = m.id;
    sub->m_idJson = jsonString(m.id);
    sub->m_isChannel = true;
    sub->m_channel = m.channel;
    sub->since = m.since;
    if (m.since)
        sub->lastSent = *m.since;
    sub->sink = sink;
    return sub;
}

std::optional<Error> Subscription::rebind(std::shared_ptr<const TableInfo> info)
{
    auto filter = Core::RowFilter::parse(m_filterText, info->columns);
    if (!filter)
        return filter.error();
    for (const QString &col : std::as_const(m_select))
        if (!info->columns.contains(col))
            return filterError(u"select: unknown column \"%1\""_qs.arg(col));
    m_filter = std::move(filter).value();
    m_info = std::move(info);
    return std::nullopt;
}

Subscription::Verdict Subscription::judge(const WindowEntry &entry, bool filter) const
{
    using Kind = Verdict::Kind;
    const PgEvent &ev = entry.event;
    Verdict v;
    if (m_isChannel) {
        if (ev.op == PgEvent::Op::Message && ev.channel == m_channel)
            v.kind = Kind::Deliver;
        return v;
    }
    if (ev.op == PgEvent::Op::Message || !m_info)
        return v;
    // By OID; an event without one (pg_events older than 1.1) by its exact names.
    if (ev.relid ? ev.relid != m_info->relid : (ev.schema != m_info->schema || ev.table != m_info->name))
        return v;
    const bool rls = m_info->rowSecurity;
    switch (ev.op) {
    case PgEvent::Op::Truncate:
        // Every row is gone: each subscriber must drop what it holds, filters aside.
        v.kind = Kind::Deliver;
        return v;
    case PgEvent::Op::Insert:
    case PgEvent::Op::Update: {
        if (!(m_events & (ev.op == PgEvent::Op::Insert ? WantInsert : WantUpdate)))
            return v;
        // A filter on an unchanged TOAST value we do not have does not match.
        if (filter && !m_filter.matches(entry.row, Core::RowFilter::Absent::Fail))
            return v;
        if (!rls) {
            v.kind = Kind::Deliver;
            return v;
        }
        for (const QString &c : std::as_const(m_info->policyColumns)) {
            if (!entry.row.contains(c)) {
                // A policy reads a value the event does not carry: it cannot be judged.
                v.kind = Kind::Withhold;
                return v;
            }
        }
        v.kind = Kind::Check;
        v.image = entry.row;
        return v;
    }
    case PgEvent::Op::Delete: {
        if (!(m_events & WantDelete))
            return v;
        const bool complete = ev.hasOld && m_info->isComplete(ev.oldTuple);
        // With only the key, the filter judges the key columns and lets the rest pass.
        if (filter && !m_filter.matches(ev.oldTuple, complete ? Core::RowFilter::Absent::Fail : Core::RowFilter::Absent::Ignore))
            return v;
        if (rls && complete) {
            // Only to those who could see the deleted version: no filter oracle.
            v.kind = Kind::Check;
            v.image = ev.oldTuple;
            return v;
        }
        v.kind = Kind::Deliver;
        return v;
    }
    default:
        return v;
    }
}

QJsonObject Subscription::project(const QJsonObject &row) const
{
    if (m_select.isEmpty())
        return row;
    QJsonObject out;
    for (const QString &c : m_select) {
        const auto it = row.constFind(c);
        if (it != row.constEnd())
            out.insert(c, *it);
    }
    return out;
}

QJsonObject Subscription::keyOf(const QJsonObject &old) const
{
    // A complete old row (REPLICA IDENTITY FULL) is cut to the primary key; anything
    // less is the replica identity's key already (primary key or USING INDEX columns).
    if (!m_info->isComplete(old))
        return old;
    QJsonObject out;
    for (const QString &c : m_info->primaryKey)
        out.insert(c, old.value(c));
    return out;
}

QByteArray Subscription::frame(const WindowEntry &entry, QHash<QString, QByteArray> *cache) const
{
    const PgEvent &ev = entry.event;
    const QString cacheKey = m_isChannel ? QString() : m_tableName + u'\x1f' + m_variant + u'\x1f' + (rowSecurity() ? u'r' : u'n');
    QByteArray body;
    if (cache) {
        const auto it = cache->constFind(cacheKey);
        if (it != cache->constEnd())
            body = *it;
    }
    QByteArray type;
    if (m_isChannel) {
        type = "event";
    } else if (ev.op == PgEvent::Op::Truncate) {
        type = "truncate";
    } else {
        type = "change";
    }
    if (body.isEmpty()) {
        QJsonObject msg{{u"cursor"_qs, ev.cursor().toString()}, {u"xid"_qs, qint64(ev.xid)}, {u"commit_time"_qs, entry.commitTime}};
        if (m_isChannel) {
            msg.insert(u"channel"_qs, ev.channel);
            msg.insert(u"payload"_qs, ev.payload);
        } else if (ev.op == PgEvent::Op::Truncate) {
            msg.insert(u"table"_qs, m_tableName);
        } else {
            QJsonValue record = QJsonValue::Null;
            QJsonValue oldRecord = QJsonValue::Null;
            if (ev.op != PgEvent::Op::Delete)
                record = project(entry.row);
            if (ev.op == PgEvent::Op::Delete) {
                const bool complete = ev.hasOld && m_info->isComplete(ev.oldTuple);
                // A complete old row was judged (RLS) or is public: projected. A key is the key.
                oldRecord = complete ? project(ev.oldTuple) : ev.oldTuple;
            } else if (ev.hasOld) {
                // The previous version of an updated row may not have been the
                // subscriber's to see: under RLS only its key.
                const QJsonObject key = rowSecurity() ? keyOf(ev.oldTuple) : project(ev.oldTuple);
                oldRecord = key.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(key);
            }
            msg.insert(u"table"_qs, m_tableName);
            msg.insert(u"op"_qs, PgEvent::opName(ev.op));
            msg.insert(u"record"_qs, record);
            msg.insert(u"old_record"_qs, oldRecord);
            if (!entry.unchanged.isEmpty()) {
                QJsonArray unchanged;
                for (const QString &c : entry.unchanged)
                    if (m_select.isEmpty() || m_select.contains(c))
                        unchanged.append(c);
                if (!unchanged.isEmpty())
                    msg.insert(u"unchanged_toast"_qs, unchanged);
            }
        }
        body = QJsonDocument(msg).toJson(QJsonDocument::Compact);
        if (cache)
            cache->insert(cacheKey, body);
    }
    // {"type":"…","sub":"<id>", + the shared body without its opening brace.
    QByteArray out;
    out.reserve(body.size() + m_idJson.size() + 32);
    out += "{\"type\":\"";
    out += type;
    out += "\",\"sub\":";
    out += m_idJson;
    out += ',';
    out.append(body.constData() + 1, body.size() - 1);
    return out;
}

QByteArray Subscription::withheldNotice(const WindowEntry &entry) const
{
    const QJsonObject msg{{u"type"_qs, u"error"_qs}, {u"id"_qs, m_id}, {u"code"_qs, u"row_withheld"_qs},
                          {u"cursor"_qs, entry.cursor().toString()},
                          {u"message"_qs, u"a change of %1 could not be checked against row-level security: a policy reads a "
                                          "column whose unchanged TOAST value the event does not carry; refetch the table "
                                          "(track it with full_replica_identity to avoid this)"_qs.arg(m_tableName)}};
    return QJsonDocument(msg).toJson(QJsonDocument::Compact);
}

} // namespace Realtime
