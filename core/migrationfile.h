#pragma once

#include <QString>

namespace Core {

// One SQL file the migrator knows about.
struct MigrationFile
{
    enum class Kind { Baseline, Versioned, Repeatable };

    Kind kind = Kind::Versioned;
    QString version;       // "0" for the baseline, the UTC timestamp for versioned, "" for repeatable
    QString name;          // description ("baseline", "add_tags") or the relative path for repeatables
    QString path;          // relative to the project root, '/' separated — what errors print
    QString absolutePath;
    QString content;
    QString checksum;      // sha256 hex of the content with line endings normalised
    bool noTransaction = false;

    static QString kindName(Kind kind);
    // sha256 over the text with CRLF/CR turned into LF and a leading BOM dropped, so a
    // checkout on Windows does not look like an edit.
    static QString checksumOf(const QString &content);
    // "-- pgext:no-transaction" on the first line.
    static bool wantsNoTransaction(const QString &content);
};

} // namespace Core
