#include "error.h"

namespace Core {

Error Error::make(Kind kind, const QString &message, const QString &hint)
{
    Error e;
    e.kind = kind;
    e.message = message;
    e.hint = hint;
    return e;
}

Error Error::validation(const QString &message, const QString &hint)
{
    return make(Kind::Validation, message, hint);
}

Error Error::io(const QString &message, const QString &hint)
{
    return make(Kind::Io, message, hint);
}

QString Error::headline() const
{
    QString where;
    if (!file.isEmpty()) {
        where = file;
        if (line > 0) {
            where += u':' + QString::number(line);
            if (column > 0)
                where += u':' + QString::number(column);
        }
        where += u": "_qs;
    }
    return where + message;
}

QString Error::toString() const
{
    QString text = headline();
    if (!detail.isEmpty())
        text += u"\n  DETAIL: "_qs + detail;
    if (!hint.isEmpty())
        text += u"\n  HINT: "_qs + hint;
    if (!sqlState.isEmpty())
        text += u"\n  SQLSTATE: "_qs + sqlState;
    return text;
}

} // namespace Core
