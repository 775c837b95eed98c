#include "dotenv.h"

#include <QFile>
#include <QRegularExpression>
#include <QSaveFile>

namespace Core {

Result<QMap<QString, QString>> DotEnv::parse(const QString &text, const QString &fileName)
{
    static const QRegularExpression keyRe(u"^[A-Za-z_][A-Za-z0-9_]*$"_qs);
    QMap<QString, QString> values;
    const QStringList lines = text.split(u'\n');
    for (int i = 0; i < lines.size(); ++i) {
        QString line = lines[i];
        if (line.endsWith(u'\r'))
            line.chop(1);
        const QString trimmed = line.trimmed();
        if (trimmed.isEmpty() || trimmed.startsWith(u'#'))
            continue;
        QString body = trimmed;
        if (body.startsWith(u"export "_qs))
            body = body.mid(7).trimmed();
        const qsizetype eq = body.indexOf(u'=');
        auto bad = [&](const QString &why) {
            Error e = Error::validation(why, u"Write each setting as KEY=value."_qs);
            e.file = fileName;
            e.line = i + 1;
            e.column = 1;
            return e;
        };
        if (eq <= 0)
            return bad(u"expected KEY=value"_qs);
        const QString key = body.left(eq).trimmed();
        if (!keyRe.match(key).hasMatch())
            return bad(u"invalid variable name \"%1\""_qs.arg(key));
        QString raw = body.mid(eq + 1).trimmed();
        QString value;
        if (raw.startsWith(u'\'')) {
            const qsizetype end = raw.indexOf(u'\'', 1);
            if (end < 0)
                return bad(u"unterminated single-quoted value for %1"_qs.arg(key));
            value = raw.mid(1, end - 1);
        } else if (raw.startsWith(u'"')) {
            qsizetype j = 1;
            bool closed = false;
            for (; j < raw.size(); ++j) {
                const QChar c = raw[j];
                if (c == u'\\' && j + 1 < raw.size()) {
                    const QChar n = raw[++j];
                    value += n == u'n' ? QChar(u'\n') : n == u't' ? QChar(u'\t') : n;
                } else if (c == u'"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed)
                return bad(u"unterminated double-quoted value for %1"_qs.arg(key));
        } else {
            // Unquoted: an inline comment starts at " #".
            const qsizetype hash = raw.indexOf(u" #"_qs);
            value = (hash >= 0 ? raw.left(hash) : raw).trimmed();
        }
        values.insert(key, value);
    }
    return values;
}

Result<QMap<QString, QString>> DotEnv::load(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error::io(u"cannot read %1: %2"_qs.arg(path, f.errorString()));
    return parse(QString::fromUtf8(f.readAll()), path);
}

Status DotEnv::setValue(const QString &path, const QString &key, const QString &value)
{
    QString text;
    {
        QFile f(path);
        if (f.exists()) {
            if (!f.open(QIODevice::ReadOnly))
                return Error::io(u"cannot read %1: %2"_qs.arg(path, f.errorString()));
            text = QString::fromUtf8(f.readAll());
        }
    }
    QStringList lines = text.split(u'\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    const QString entry = key + u'=' + value;
    bool replaced = false;
    for (QString &line : lines) {
        const QString t = line.trimmed();
        if (t.startsWith(key + u'=') || t.startsWith(u"export "_qs + key + u'=')) {
            line = entry;
            replaced = true;
        }
    }
    if (!replaced)
        lines << entry;
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return Error::io(u"cannot write %1: %2"_qs.arg(path, out.errorString()));
    out.write((lines.join(u'\n') + u'\n').toUtf8());
    if (!out.commit())
        return Error::io(u"cannot write %1: %2"_qs.arg(path, out.errorString()));
    return {};
}

} // namespace Core
