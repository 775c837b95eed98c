#include "pgevent.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cerrno>
#include <cmath>
#include <cstdlib>

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

// Would Qt keep this number token as the value it spells? Integers must fit 64 bits;
// other numbers must be finite doubles that do not underflow to zero.
static bool qtKeeps(const char *begin, const char *end)
{
    bool integer = true;
    for (const char *p = begin; p < end; ++p)
        if (*p == '.' || *p == 'e' || *p == 'E')
            integer = false;
    const std::string text(begin, end);
    errno = 0;
    if (integer) {
        char *stop = nullptr;
        (void)std::strtoll(text.c_str(), &stop, 10);
        return errno != ERANGE;
    }
    char *stop = nullptr;
    const double d = std::strtod(text.c_str(), &stop);
    if (std::isinf(d))
        return false;
    if (d == 0) {
        // "0.0e-5" is a zero; "1e-400" underflowed to one.
        for (const char *p = begin; p < end && *p != 'e' && *p != 'E'; ++p)
            if (*p >= '1' && *p <= '9')
                return false;
    }
    return true;
}

QByteArray PgEventDecoder::preserveBigNumbers(QByteArrayView document, bool *changed)
{
    if (changed)
        *changed = false;
    QByteArray out;
    qsizetype copied = 0;
    const char *data = document.data();
    const qsizetype n = document.size();
    qsizetype i = 0;
    while (i < n) {
        const char c = data[i];
        if (c == '"') {
            // Skip the string, escapes included.
            for (++i; i < n && data[i] != '"'; ++i)
                if (data[i] == '\\')
                    ++i;
            ++i;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            ++i;
            continue;
        }
        const qsizetype start = i;
        ++i;
        while (i < n && ((data[i] >= '0' && data[i] <= '9') || data[i] == '.' || data[i] == 'e' || data[i] == 'E'
                         || data[i] == '+' || data[i] == '-'))
            ++i;
        if (qtKeeps(data + start, data + i))
            continue;
        if (out.isEmpty())
            out.reserve(n + 16);
        out.append(data + copied, start - copied);
        out.append('"');
        out.append(data + start, i - start);
        out.append('"');
        copied = i;
    }
    if (copied == 0)
        return document.toByteArray();
    out.append(data + copied, n - copied);
    if (changed)
        *changed = true;
    return out;
}

// A digit run this long may be an integer beyond 64 bits, which Qt silently rounds.
static bool mayHoldBigInteger(QByteArrayView document)
{
    int run = 0;
    for (const char c : document) {
        run = (c >= '0' && c <= '9') ? run + 1 : 0;
        if (run >= 19)
            return true;
    }
    return false;
}

Result<PgEvent> PgEventDecoder::decode(QByteArrayView document)
{
    QJsonParseError parseError;
    QJsonDocument doc = mayHoldBigInteger(document) ? QJsonDocument::fromJson(preserveBigNumbers(document), &parseError)
                                                    : QJsonDocument::fromJson(document.toByteArray(), &parseError);
    if (parseError.error == QJsonParseError::IllegalNumber)
        doc = QJsonDocument::fromJson(preserveBigNumbers(document), &parseError);
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
    if (o.contains(u"relid"_qs)) {
        const QJsonValue relid = o.value(u"relid"_qs);
        if (!relid.isDouble() || relid.toInteger(-1) <= 0 || relid.toInteger() > 0xFFFFFFFFLL)
            return bad(u"invalid \"relid\""_qs);
        e.relid = quint32(relid.toInteger());
    }
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
