#pragma once

#include "pgresult.h"
#include "result.h"

#include <QByteArray>
#include <QStringList>

#include <memory>

struct pg_conn;
typedef struct pg_conn PGconn;

namespace Core {

// A blocking libpq connection for the CLI and for worker threads. Owns the PGconn.
class PgConnection
{
public:
    PgConnection() = default;

    static Result<PgConnection> open(const QString &conninfo, int connectTimeoutSeconds = 10);

    bool isOpen() const { return bool(m_conn); }
    // Runs one or several statements with the simple query protocol; returns the last result.
    Result<PgResult> exec(const QString &sql);
    // One statement with text parameters (a null QString is SQL NULL).
    Result<PgResult> exec(const QString &sql, const QStringList &params);
    Status execStatus(const QString &sql) { auto r = exec(sql); return r ? Status() : Status(r.error()); }

    QString databaseName() const;
    QString user() const;
    int serverVersion() const;
    PGconn *handle() const { return m_conn.get(); }

    static QString quoteIdentifier(const QString &name);
    static QString quoteLiteral(const QString &value);

private:
    struct Deleter { void operator()(PGconn *c) const; };
    explicit PgConnection(PGconn *conn) : m_conn(conn) {}
    Result<PgResult> collect(PGresult *result);

    std::unique_ptr<PGconn, Deleter> m_conn;
};

} // namespace Core
