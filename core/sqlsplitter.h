#pragma once

#include "result.h"

#include <QString>

#include <vector>

namespace Core {

// Splits a SQL script into statements the way psql does: semicolons end statements
// except inside quotes, dollar quotes, comments, parentheses and BEGIN ATOMIC bodies.
// Needed because CREATE INDEX CONCURRENTLY and friends refuse to run inside the
// implicit transaction of a multi-statement query string, and so that an error without
// a position can still be pinned to the statement that raised it.
class SqlSplitter
{
public:
    struct Statement
    {
        QString text;     // without the terminating semicolon
        qsizetype offset; // index of text[0] in the script (QString units)
        int line;         // 1-based line of the first character
        int column;       // 1-based column of the first character
    };

    // An error (with line and column) for psql meta-commands and unterminated quotes.
    static Result<std::vector<Statement>> split(const QString &script);

    // Turns a PostgreSQL error position (1-based, in characters, into `statementText`)
    // into a line and column in `script`, where the statement starts at `offset`.
    static std::pair<int, int> lineColumn(const QString &script, qsizetype offset,
                                          const QString &statementText, int position);
    // Line and column of a QString index.
    static std::pair<int, int> lineColumnAt(const QString &script, qsizetype index);
};

} // namespace Core
