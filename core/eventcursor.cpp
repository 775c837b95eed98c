#include "eventcursor.h"

namespace Core {

std::optional<quint64> Lsn::parse(QStringView text)
{
    const qsizetype slash = text.indexOf(u'/');
    if (slash <= 0 || slash > 8 || text.size() - slash - 1 < 1 || text.size() - slash - 1 > 8)
        return std::nullopt;
    bool okHi = false, okLo = false;
    const quint64 hi = text.left(slash).toULongLong(&okHi, 16);
    const quint64 lo = text.mid(slash + 1).toULongLong(&okLo, 16);
    if (!okHi || !okLo)
        return std::nullopt;
    return (hi << 32) | lo;
}

QString Lsn::format(quint64 lsn)
{
    return QString::number(lsn >> 32, 16).toUpper() + u'/' + QString::number(lsn & 0xFFFFFFFFu, 16).toUpper();
}

QString EventCursor::toString() const
{
    return u"%1.%2"_qs.arg(lsn, 16, 16, QChar(u'0')).arg(seq, 8, 16, QChar(u'0'));
}

std::optional<EventCursor> EventCursor::parse(QStringView text)
{
    if (text.size() != 25 || text[16] != u'.')
        return std::nullopt;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (i != 16 && !((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f')))
            return std::nullopt;
    }
    bool ok1 = false, ok2 = false;
    EventCursor c;
    c.lsn = text.left(16).toULongLong(&ok1, 16);
    c.seq = text.mid(17).toUInt(&ok2, 16);
    if (!ok1 || !ok2)
        return std::nullopt;
    return c;
}

} // namespace Core
