#pragma once

#include <QString>
#include <QVariant>

#include <memory>

struct pg_result;
typedef struct pg_result PGresult;

namespace Core {

struct Error;

// Owns a PGresult (PQclear on destruction). Cheap to move; values are returned as
// QString because the CLI, studio grid and server all render text.
class PgResult
{
public:
    PgResult() = default;
    explicit PgResult(PGresult *result);

    bool isNull() const { return !m_result; }
    int rows() const;
    int columns() const;
    QString columnName(int column) const;
    unsigned int columnType(int column) const;
    bool isNull(int row, int column) const;
    QString value(int row, int column) const;
    QString value(int row, const char *columnName) const;
    // Rows affected by INSERT/UPDATE/DELETE ("" when not applicable).
    QString commandTuples() const;
    QString commandStatus() const;
    PGresult *get() const { return m_result.get(); }

    // Builds an Error from a failed result (SQLSTATE, detail, hint, position, context).
    static Error toError(const PGresult *result);

private:
    struct Deleter { void operator()(PGresult *r) const; };
    std::unique_ptr<PGresult, Deleter> m_result;
};

} // namespace Core
