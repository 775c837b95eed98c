#pragma once

#include <QString>

namespace Core {

// One error type for the whole code base: a libpq failure, a bad manifest key and a
// broken migration file all end up here, so every front end (CLI, studio, server)
// can print or mark them the same way.
struct Error
{
    enum class Kind {
        Generic,
        Database,     // reported by the server (has SQLSTATE)
        Connection,   // could not reach the server
        Validation,   // bad input: manifest, migration history, arguments
        Io,           // file system
        Process,      // an external program failed
        Cancelled,
    };

    Kind kind = Kind::Generic;
    // A stable machine-readable code where a protocol needs one (e.g. "token_expired").
    QString code;
    QString message;
    QString sqlState;
    QString detail;
    QString hint;
    QString context;
    // 1-based character offset into the statement sent to the server, 0 if none.
    int position = 0;
    // Where in a file the error is, when known (1-based; 0 = unknown).
    QString file;
    int line = 0;
    int column = 0;

    static Error make(Kind kind, const QString &message, const QString &hint = {});
    static Error validation(const QString &message, const QString &hint = {});
    static Error io(const QString &message, const QString &hint = {});

    // "file:line:col: message" (or shorter forms when parts are unknown),
    // followed by DETAIL/HINT lines. This is the one format the CLI prints.
    QString toString() const;
    // Single line, without detail and hint.
    QString headline() const;
};

} // namespace Core
