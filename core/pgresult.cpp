#include "pgresult.h"

#include "error.h"

#include <libpq-fe.h>

namespace Core {

void PgResult::Deleter::operator()(PGresult *r) const
{
    PQclear(r);
}

PgResult::PgResult(PGresult *result) : m_result(result) {}

int PgResult::rows() const { return m_result ? PQntuples(m_result.get()) : 0; }
int PgResult::columns() const { return m_result ? PQnfields(m_result.get()) : 0; }

QString PgResult::columnName(int column) const
{
    return QString::fromUtf8(PQfname(m_result.get(), column));
}

unsigned int PgResult::columnType(int column) const
{
    return PQftype(m_result.get(), column);
}

bool PgResult::isNull(int row, int column) const
{
    return PQgetisnull(m_result.get(), row, column);
}

QString PgResult::value(int row, int column) const
{
    const char *v = PQgetvalue(m_result.get(), row, column);
    return QString::fromUtf8(v, PQgetlength(m_result.get(), row, column));
}

QString PgResult::value(int row, const char *name) const
{
    const int column = PQfnumber(m_result.get(), name);
    return column < 0 ? QString() : value(row, column);
}

QString PgResult::commandTuples() const
{
    return m_result ? QString::fromUtf8(PQcmdTuples(m_result.get())) : QString();
}

QString PgResult::commandStatus() const
{
    return m_result ? QString::fromUtf8(PQcmdStatus(m_result.get())) : QString();
}

Error PgResult::toError(const PGresult *result)
{
    Error e;
    e.kind = Error::Kind::Database;
    auto field = [result](int code) {
        return QString::fromUtf8(PQresultErrorField(result, code));
    };
    e.message = field(PG_DIAG_MESSAGE_PRIMARY);
    if (e.message.isEmpty())
        e.message = QString::fromUtf8(PQresultErrorMessage(result)).trimmed();
    e.sqlState = field(PG_DIAG_SQLSTATE);
    e.detail = field(PG_DIAG_MESSAGE_DETAIL);
    e.hint = field(PG_DIAG_MESSAGE_HINT);
    e.context = field(PG_DIAG_CONTEXT);
    e.position = field(PG_DIAG_STATEMENT_POSITION).toInt();
    return e;
}

} // namespace Core
