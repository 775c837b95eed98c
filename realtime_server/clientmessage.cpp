#include "clientmessage.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace Realtime {

ParsedClientMessage ClientMessage::parse(const QByteArray &text)
{
    ParsedClientMessage out;
    auto problem = [&out](const QString &code, const QString &message, const QString &id = {}) {
        out.problem.code = code;
        out.problem.message = message;
        out.problem.id = id;
        return out;
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return problem(u"invalid_message"_qs, u"expected a JSON object: "_qs
                                                  + (pe.error != QJsonParseError::NoError ? pe.errorString() : u"got another JSON value"_qs));
    const QJsonObject msg = doc.object();
    const QJsonValue refValue = msg.value(u"ref"_qs);
    if (!refValue.isUndefined() && !refValue.isString())
        return problem(u"invalid_message"_qs, u"\"ref\" must be a string"_qs);
    out.problem.ref = refValue.toString().left(256);

    ClientMessage m;
    m.ref = out.problem.ref;
    const QString type = msg.value(u"type"_qs).toString();
    if (type == u"ping"_qs) {
        m.type = Type::Ping;
    } else if (type == u"auth"_qs) {
        m.type = Type::Auth;
        const QJsonValue token = msg.value(u"token"_qs);
        if (!token.isString())
            return problem(u"invalid_message"_qs, u"auth needs \"token\": a JWT string"_qs);
        m.token = token.toString();
    } else if (type == u"unsubscribe"_qs) {
        m.type = Type::Unsubscribe;
        const QJsonValue id = msg.value(u"id"_qs);
        if (!id.isString() || id.toString().isEmpty())
            return problem(u"invalid_message"_qs, u"unsubscribe needs \"id\": the subscription's id"_qs);
        m.id = id.toString();
    } else if (type == u"subscribe"_qs) {
        m.type = Type::Subscribe;
        const QJsonValue idValue = msg.value(u"id"_qs);
        m.id = idValue.toString();
        if (!idValue.isString() || m.id.isEmpty() || m.id.size() > 128)
            return problem(u"invalid_message"_qs, u"subscribe needs \"id\": a string of 1 to 128 characters"_qs);
        if (msg.contains(u"since"_qs)) {
            const auto since = Core::EventCursor::parse(msg.value(u"since"_qs).toString());
            if (!since)
                return problem(u"invalid_message"_qs, u"\"since\" is not a cursor this server issued"_qs, m.id);
            m.since = since;
        }
        const bool hasTable = msg.contains(u"table"_qs), hasChannel = msg.contains(u"channel"_qs);
        if (hasTable == hasChannel)
            return problem(u"invalid_message"_qs, u"subscribe needs exactly one of \"table\" or \"channel\""_qs, m.id);
        if (hasChannel) {
            static const QRegularExpression channelRe(u"^[a-z_][a-z0-9_.:-]{0,62}$"_qs);
            m.isChannel = true;
            m.channel = msg.value(u"channel"_qs).toString();
            if (!channelRe.match(m.channel).hasMatch())
                return problem(u"invalid_message"_qs, u"invalid channel name; channels match [a-z_][a-z0-9_.:-]{0,62}"_qs, m.id);
            for (const char *key : {"filter", "select", "events"})
                if (msg.contains(QString::fromLatin1(key)))
                    return problem(u"invalid_message"_qs, u"\"%1\" applies to table subscriptions only"_qs.arg(QString::fromLatin1(key)), m.id);
        } else {
            // Exact names, as PostgREST takes them: public.Tasks is the table "Tasks".
            static const QRegularExpression tableRe(u"^([A-Za-z_][A-Za-z0-9_$]{0,62})\\.([A-Za-z_][A-Za-z0-9_$]{0,62})$"_qs);
            const auto match = tableRe.match(msg.value(u"table"_qs).toString());
            if (!match.hasMatch())
                return problem(u"invalid_message"_qs, u"\"table\" must be schema.table, e.g. public.tasks"_qs, m.id);
            m.schema = match.captured(1);
            m.table = match.captured(2);
            if (msg.contains(u"events"_qs)) {
                const QJsonValue events = msg.value(u"events"_qs);
                m.events = 0;
                for (const QJsonValue &e : events.toArray()) {
                    const QString op = e.toString();
                    if (op == u"insert"_qs)
                        m.events |= WantInsert;
                    else if (op == u"update"_qs)
                        m.events |= WantUpdate;
                    else if (op == u"delete"_qs)
                        m.events |= WantDelete;
                    else
                        return problem(u"invalid_message"_qs, u"\"events\" may contain insert, update and delete"_qs, m.id);
                }
                if (!events.isArray() || m.events == 0)
                    return problem(u"invalid_message"_qs, u"\"events\" must be a non-empty array of insert, update, delete"_qs, m.id);
            }
            if ((msg.contains(u"filter"_qs) && !msg.value(u"filter"_qs).isString())
                || (msg.contains(u"select"_qs) && !msg.value(u"select"_qs).isString()))
                return problem(u"invalid_message"_qs, u"\"filter\" and \"select\" must be strings"_qs, m.id);
            m.filter = msg.value(u"filter"_qs).toString();
            const QString select = msg.value(u"select"_qs).toString();
            if (!select.trimmed().isEmpty())
                for (const QString &c : select.split(u','))
                    m.select << c.trimmed();
        }
    } else {
        return problem(u"invalid_message"_qs, type.isEmpty() ? u"missing \"type\""_qs : u"unknown message type \"%1\""_qs.arg(type));
    }
    out.message = std::move(m);
    return out;
}

} // namespace Realtime
