#include "migrationfile.h"

#include <QCryptographicHash>

namespace Core {

QString MigrationFile::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Baseline: return u"baseline"_qs;
    case Kind::Versioned: return u"versioned"_qs;
    case Kind::Repeatable: return u"repeatable"_qs;
    }
    return {};
}

QString MigrationFile::checksumOf(const QString &content)
{
    QString normalised = content;
    if (normalised.startsWith(QChar(0xFEFF)))
        normalised.remove(0, 1);
    normalised.replace(u"\r\n"_qs, u"\n"_qs);
    normalised.replace(u'\r', u'\n');
    return QString::fromLatin1(
        QCryptographicHash::hash(normalised.toUtf8(), QCryptographicHash::Sha256).toHex());
}

bool MigrationFile::wantsNoTransaction(const QString &content)
{
    QString first = content.section(u'\n', 0, 0).trimmed();
    if (first.startsWith(QChar(0xFEFF)))
        first.remove(0, 1);
    return first.compare(u"-- pgext:no-transaction"_qs, Qt::CaseInsensitive) == 0;
}

} // namespace Core
