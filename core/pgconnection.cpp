#include "pgconnection.h"

#include "logging.h"

#include <libpq-fe.h>

#include <vector>

namespace Core {

void PgConnection::Deleter::operator()(PGconn *c) const
{
    PQfinish(c);
}

static void noticeToLog(void *, const PGresult *result)
{
    qCDebug(lcPg).noquote() << QString::fromUtf8(PQresultErrorMessage(result)).trimmed();
}

Result<PgConnection> PgConnection::open(const QString &conninfo, int connectTimeoutSeconds)
{
    const QByteArray info = conninfo.toUtf8();
    const QByteArray timeout = QByteArray::number(connectTimeoutSeconds);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "client_encoding", nullptr};
    const char *values[] = {info.constData(), timeout.constData(), "pgext", "UTF8", nullptr};
    // expand_dbname=1: "dbname" may be a full conninfo string or URI.
    PGconn *raw = PQconnectdbParams(keys, values, 1);
    PgConnection conn(raw);
    if (!raw)
        return Error::make(Error::Kind::Connection, u"out of memory allocating a connection"_qs);
    if (PQstatus(raw) != CONNECTION_OK) {
        Error e = Error::make(Error::Kind::Connection,
                              QString::fromUtf8(PQerrorMessage(raw)).trimmed());
        e.hint = u"Check that the database is running (pgext status) and the connection settings are right."_qs;
        return e;
    }
    PQsetNoticeReceiver(raw, noticeToLog, nullptr);
    return conn;
}

Result<PgResult> PgConnection::collect(PGresult *raw)
{
    PgResult result(raw);
    if (!raw) {
        return Error::make(Error::Kind::Connection,
                           QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed());
    }
    switch (PQresultStatus(raw)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_COPY_BOTH:
        return result;
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT: {
        // Leave no connection in COPY state behind.
        if (PQresultStatus(raw) == PGRES_COPY_IN)
            PQputCopyEnd(m_conn.get(), "COPY FROM STDIN is not supported here");
        while (PGresult *next = PQgetResult(m_conn.get()))
            PQclear(next);
        return Error::validation(u"COPY ... FROM STDIN / TO STDOUT is not supported in this context"_qs,
                                 u"Use INSERT statements or COPY from a server-side file."_qs);
    }
    default: {
        Error e = PgResult::toError(raw);
        if (PQstatus(m_conn.get()) == CONNECTION_BAD)
            e.kind = Error::Kind::Connection;
        return e;
    }
    }
}

Result<PgResult> PgConnection::exec(const QString &sql)
{
    const QByteArray text = sql.toUtf8();
    // PQexec returns only the last result; earlier failures stop the batch and are that last result.
    return collect(PQexec(m_conn.get(), text.constData()));
}

Result<PgResult> PgConnection::exec(const QString &sql, const QStringList &params)
{
    const QByteArray text = sql.toUtf8();
    std::vector<QByteArray> storage;
    std::vector<const char *> values;
    storage.reserve(params.size());
    for (const QString &p : params) {
        storage.push_back(p.toUtf8());
        values.push_back(p.isNull() ? nullptr : storage.back().constData());
    }
    return collect(PQexecParams(m_conn.get(), text.constData(), int(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0));
}

QString PgConnection::databaseName() const { return QString::fromUtf8(PQdb(m_conn.get())); }
QString PgConnection::user() const { return QString::fromUtf8(PQuser(m_conn.get())); }
int PgConnection::serverVersion() const { return PQserverVersion(m_conn.get()); }

QString PgConnection::quoteIdentifier(const QString &name)
{
    QString escaped = name;
    escaped.replace(u'"', u"\"\""_qs);
    return u'"' + escaped + u'"';
}

QString PgConnection::quoteLiteral(const QString &value)
{
    QString escaped = value;
    escaped.replace(u'\'', u"''"_qs);
    // E'' form only when a backslash is present, so standard_conforming_strings does not matter.
    if (escaped.contains(u'\\')) {
        escaped.replace(u'\\', u"\\\\"_qs);
        return u"E'"_qs + escaped + u'\'';
    }
    return u'\'' + escaped + u'\'';
}

} // namespace Core
