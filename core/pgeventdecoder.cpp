#include "pgevent.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace Core {

QString PgEvent::opName(Op op)
{
    switch (op) {
    case Op::Begin: return u"begin"_qs;
    case Op::Commit: return u"commit"_qs;
    case Op::Insert: return u"insert"_qs;
    case Op::Update: return u"update"_qs;
    case Op::Delete: return u"delete"_qs;
    case Op::Truncate: return u"truncate"_qs;
    case Op::Message: return u"message"_qs;
    }
    return {};
}

static Error bad(const QString &why)
{
    Error e = Error::validation(u"malformed pg_events document: "_qs + why);
    e.code = u"decode_error"_qs;
    return e;
}

Result<PgEvent> PgEventDecoder::decode(QByteArrayView document)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(document.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return bad(parseError.errorString() + u" at offset "_qs + QString::number(parseError.offset));
    if (!doc.isObject())
        return bad(u"not a JSON object"_qs);
    const QJsonObject o = doc.object();
    PgEvent e;
    const QJsonValue v = o.value(u"v"_qs);
    if (!v.isDouble())
        return bad(u"missing \"v\""_qs);
    e.version = v.toInt();
    if (e.version != SupportedVersion)
        return bad(u"format version %1 is not supported (this build reads %2)"_qs.arg(e.version).arg(SupportedVersion));

    static const QHash<QString, PgEvent::Op> ops = {
        {u"begin"_qs, PgEvent::Op::Begin}, {u"commit"_qs, PgEvent::Op::Commit},
        {u"insert"_qs, PgEvent::Op::Insert}, {u"update"_qs, PgEvent::Op::Update},
        {u"delete"_qs, PgEvent::Op::Delete}, {u"truncate"_qs, PgEvent::Op::Truncate},
        {u"message"_qs, PgEvent::Op::Message},
    };
    const auto op = ops.constFind(o.value(u"op"_qs).toString());
    if (op == ops.constEnd())
        return bad(u"unknown op \"%1\""_qs.arg(o.value(u"op"_qs).toString()));
    e.op = *op;

    auto lsnField = [&o](const QString &key, quint64 &out) {
        const auto lsn = Lsn::parse(o.value(key).toString());
        if (!lsn)
            return false;
        out = *lsn;
        return true;
    };
    if (!lsnField(u"lsn"_qs, e.lsn))
        return bad(u"missing or invalid \"lsn\""_qs);
    const QJsonValue xid = o.value(u"xid"_qs);
    if (!xid.isDouble() || xid.toInteger(-1) < 0)
        return bad(u"missing or invalid \"xid\""_qs);
    e.xid = quint64(xid.toInteger());
    e.commitTime = o.value(u"commit_time"_qs).toString();
    if (e.commitTime.isEmpty())
        return bad(u"missing \"commit_time\""_qs);

    if (e.op == PgEvent::Op::Begin || e.op == PgEvent::Op::Commit) {
        if (!lsnField(u"end_lsn"_qs, e.endLsn))
            return bad(u"missing or invalid \"end_lsn\""_qs);
        if (e.op == PgEvent::Op::Commit)
            e.count = o.value(u"count"_qs).toInt();
        return e;
    }

    const QJsonValue seq = o.value(u"seq"_qs);
    if (!seq.isDouble() || seq.toInteger(-1) < 0 || seq.toInteger() > 0xFFFFFFFFLL)
        return bad(u"missing or invalid \"seq\""_qs);
    e.seq = quint32(seq.toInteger());

    if (e.op == PgEvent::Op::Message) {
        e.channel = o.value(u"channel"_qs).toString();
        if (e.channel.isEmpty() || !o.contains(u"payload"_qs))
            return bad(u"message without channel or payload"_qs);
        e.payload = o.value(u"payload"_qs);
        return e;
    }

    e.schema = o.value(u"schema"_qs).toString();
    e.table = o.value(u"table"_qs).toString();
    if (e.schema.isEmpty() || e.table.isEmpty())
        return bad(u"change without schema or table"_qs);
    if (e.op == PgEvent::Op::Truncate) {
        e.cascade = o.value(u"cascade"_qs).toBool();
        e.restartIdentity = o.value(u"restart_identity"_qs).toBool();
        return e;
    }
    for (const QJsonValue &k : o.value(u"pk"_qs).toArray())
        e.primaryKey << k.toString();
    const QJsonValue n = o.value(u"new"_qs);
    const QJsonValue old = o.value(u"old"_qs);
    if (e.op != PgEvent::Op::Delete) {
        if (!n.isObject())
            return bad(u"%1 without \"new\""_qs.arg(PgEvent::opName(e.op)));
        e.newTuple = n.toObject();
    }
    if (old.isObject()) {
        e.oldTuple = old.toObject();
        e.hasOld = true;
    } else if (!old.isNull() && !old.isUndefined()) {
        return bad(u"\"old\" must be an object or null"_qs);
    }
    for (const QJsonValue &t : o.value(u"unchanged_toast"_qs).toArray())
        e.unchangedToast << t.toString();
    return e;
}

} // namespace Core
