#include "authorizer.h"

#include "eventcursor.h"
#include "pgconnection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTimer>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcAuth, "pgext.realtime.auth", QtInfoMsg)

namespace Realtime {

using Core::Error;
using Core::PgConnection;

QString Identity::key() const
{
    return role + u'\x1f' + QString::fromUtf8(QJsonDocument(claims).toJson(QJsonDocument::Compact));
}

Authorizer::Authorizer(QString conninfo, int poolSize, QObject *parent)
    : QObject(parent), m_conninfo(std::move(conninfo))
{
    for (int i = 0; i < poolSize; ++i) {
        auto *c = new Core::AsyncConnection(this);
        // Reconnect a pool member that lost its server; queued work was already failed.
        connect(c, &Core::AsyncConnection::disconnected, this, [this, c] {
            QTimer::singleShot(1000, c, [this, c] { c->open(m_conninfo); });
        });
        connect(c, &Core::AsyncConnection::connectionFailed, this, [this, c] {
            QTimer::singleShot(1000, c, [this, c] { c->open(m_conninfo); });
        });
        m_pool.push_back(c);
    }
}

void Authorizer::open()
{
    for (auto *c : m_pool)
        c->open(m_conninfo);
}

bool Authorizer::isReady() const
{
    for (auto *c : m_pool)
        if (c->state() == Core::AsyncConnection::State::Ready || c->state() == Core::AsyncConnection::State::Busy)
            return true;
    return false;
}

Core::AsyncConnection *Authorizer::pick()
{
    Core::AsyncConnection *best = m_pool.front();
    for (auto *c : m_pool)
        if (c->pendingQueries() < best->pendingQueries())
            best = c;
    ++m_queries;
    return best;
}

// Runs `query` as the identity would under PostgREST: role switched, claims set, read
// only, in a transaction that ends either way.
QString Authorizer::asIdentity(const Identity &who, const QString &query) const
{
    const QString claims = QString::fromUtf8(QJsonDocument(who.claims).toJson(QJsonDocument::Compact));
    return u"BEGIN READ ONLY; SET LOCAL ROLE %1; SELECT set_config('request.jwt.claims', %2, true); %3; COMMIT"_qs
        .arg(PgConnection::quoteIdentifier(who.role), PgConnection::quoteLiteral(claims), query);
}

void Authorizer::tableInfo(const QString &table, TableCallback done)
{
    if (m_tables.contains(table)) {
        done(m_tables.value(table));
        return;
    }
    const QString sql = uR"(SELECT a.attname, format_type(a.atttypid, a.atttypmod), c.relrowsecurity,
       coalesce(a.attnum = ANY (i.indkey), false),
       EXISTS (SELECT 1 FROM pg_events.tracked() t WHERE format('%I.%I', t.schema_name, t.table_name)::regclass = c.oid)
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
 WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')
 ORDER BY a.attnum)"_qs;
    pick()->query(sql, {table}, [this, table, done](Core::AsyncReply &reply) {
        if (reply.error) {
            Error e = *reply.error;
            e.code = u"unknown_table"_qs;
            if (reply.error->sqlState == u"42P01"_qs || reply.error->sqlState == u"3F000"_qs
                || reply.error->sqlState == u"42602"_qs)
                e.message = u"table %1 does not exist"_qs.arg(table);
            done(e);
            return;
        }
        const Core::PgResult &r = reply.results.front();
        if (r.rows() == 0) {
            Error e = Error::validation(u"table %1 does not exist"_qs.arg(table));
            e.code = u"unknown_table"_qs;
            done(e);
            return;
        }
        TableInfo info;
        info.name = table;
        for (int i = 0; i < r.rows(); ++i) {
            const QString col = r.value(i, 0);
            info.columnTypes.insert(col, r.value(i, 1));
            info.columns.insert(col, Core::RowFilter::categoryForType(r.value(i, 1)));
            if (r.value(i, 3) == u"t"_qs)
                info.primaryKey << col;
        }
        info.rowSecurity = r.value(0, 2) == u"t"_qs;
        info.tracked = r.value(0, 4) == u"t"_qs;
        if (!info.tracked) {
            Error e = Error::validation(u"table %1 is not tracked by pg_events"_qs.arg(table),
                                        u"Run SELECT pg_events.track('%1') (pgext dev tracks the tables in pgext.toml)."_qs.arg(table));
            e.code = u"unknown_table"_qs;
            done(e);
            return;
        }
        m_tables.insert(table, info);
        done(info);
    }, true);
}

void Authorizer::canSelect(const Identity &who, const QString &table, AllowCallback done)
{
    pick()->query(u"SELECT has_table_privilege($1, $2, 'SELECT')"_qs, {who.role, table}, [done, who](Core::AsyncReply &reply) {
        if (reply.error) {
            Error e = *reply.error;
            e.code = u"forbidden"_qs;
            if (reply.error->sqlState == u"42704"_qs)
                e.message = u"role \"%1\" does not exist"_qs.arg(who.role);
            done(e);
            return;
        }
        done(reply.results.front().value(0, 0) == u"t"_qs);
    }, true);
}

void Authorizer::canListen(const Identity &who, const QString &channel, const QString &anonRole, AllowCallback done)
{
    auto decide = [this, who, channel, anonRole, done] {
        if (m_hasAuthorizeChannel != 1) {
            // Default rule: any authenticated role may listen.
            done(!who.claims.isEmpty() && who.role != anonRole);
            return;
        }
        pick()->query(asIdentity(who, u"SELECT pg_events.authorize_channel(%1)"_qs.arg(PgConnection::quoteLiteral(channel))),
                      [done](Core::AsyncReply &reply) {
                          if (reply.error) {
                              Error e = *reply.error;
                              e.code = u"forbidden"_qs;
                              done(e);
                              return;
                          }
                          done(reply.results.size() >= 4 && reply.results[3].value(0, 0) == u"t"_qs);
                      });
    };
    // Asked every time: a project may add or drop its authorize_channel at any moment.
    pick()->query(u"SELECT to_regprocedure('pg_events.authorize_channel(text)') IS NOT NULL"_qs,
                  [this, decide](Core::AsyncReply &reply) {
                      m_hasAuthorizeChannel = !reply.error && reply.results.front().value(0, 0) == u"t"_qs ? 1 : 0;
                      decide();
                  });
}

void Authorizer::currentWalLsn(std::function<void(quint64)> done)
{
    --m_queries; // bookkeeping, not an authorization query
    pick()->query(u"SELECT pg_current_wal_lsn()::text"_qs, [done](Core::AsyncReply &reply) {
        if (!reply.error && !reply.results.empty())
            done(Core::Lsn::parse(reply.results.front().value(0, 0)).value_or(0));
    });
}

static QString cellText(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isBool())
        return v.toBool() ? u"true"_qs : u"false"_qs;
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d == double(v.toInteger()))
            return QString::number(v.toInteger());
        return QString::number(d, 'g', 17);
    }
    if (v.isNull() || v.isUndefined())
        return QString();
    return QString::fromUtf8((v.isObject() ? QJsonDocument(v.toObject()) : QJsonDocument(v.toArray())).toJson(QJsonDocument::Compact));
}

QString Authorizer::rowKey(const TableInfo &table, const QJsonObject &row)
{
    QStringList parts;
    for (const QString &col : table.primaryKey)
        parts << cellText(row.value(col));
    return parts.join(u'\x1f');
}

void Authorizer::visibleRows(const Identity &who, const TableInfo &table, const std::vector<QJsonObject> &rows, quint64 xid,
                             VisibleCallback done, int attempt)
{
    if (rows.empty() || table.primaryKey.isEmpty()) {
        // Without a primary key we cannot ask about single rows: show nothing rather than everything.
        done({}, table.primaryKey.isEmpty() && !rows.empty());
        return;
    }
    // Ask with our own key strings: (VALUES (key, pk values cast to their types)) joined
    // to the table under the identity's RLS; the server never has to echo our formatting.
    QStringList tuples;
    QSet<QString> seen;
    for (const QJsonObject &row : rows) {
        const QString key = rowKey(table, row);
        if (seen.contains(key))
            continue;
        seen.insert(key);
        QStringList values{PgConnection::quoteLiteral(key)};
        for (const QString &col : table.primaryKey)
            values << PgConnection::quoteLiteral(cellText(row.value(col))) + u"::"_qs + table.columnTypes.value(col);
        tuples << u'(' + values.join(u", "_qs) + u')';
    }
    QStringList names{u"k"_qs}, conditions;
    for (int i = 0; i < table.primaryKey.size(); ++i) {
        names << u"c%1"_qs.arg(i);
        conditions << u"t.%1 = v.c%2"_qs.arg(PgConnection::quoteIdentifier(table.primaryKey[i])).arg(i);
    }
    const QStringList nameParts = table.name.split(u'.');
    const QString relation = PgConnection::quoteIdentifier(nameParts.value(0)) + u'.' + PgConnection::quoteIdentifier(nameParts.value(1));
    const QString query = u"SELECT v.k FROM (VALUES %1) AS v(%2) WHERE EXISTS (SELECT 1 FROM %3 t WHERE %4)"_qs
                              .arg(tuples.join(u", "_qs), names.join(u", "_qs), relation, conditions.join(u" AND "_qs));
    // One snapshot for both questions (REPEATABLE READ): is the writing transaction visible
    // in it yet, and which rows can the identity see in it. The 32-bit xid of the event is
    // widened with the snapshot's epoch.
    const QString visibleXid = xid == 0 ? u"true"_qs
        : u"(SELECT pg_visible_in_snapshot((CASE WHEN c > m THEN c - 4294967296 ELSE c END)::text::xid8, s) "
          "FROM (SELECT s, m, ((m >> 32) << 32) | %1 AS c FROM (SELECT pg_current_snapshot() AS s, "
          "pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS m) a) b)"_qs.arg(xid);
    const QString claims = QString::fromUtf8(QJsonDocument(who.claims).toJson(QJsonDocument::Compact));
    const QString batch = u"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL ROLE %1; "
                          "SELECT set_config('request.jwt.claims', %2, true), %3; %4; COMMIT"_qs
                              .arg(PgConnection::quoteIdentifier(who.role), PgConnection::quoteLiteral(claims), visibleXid, query);
    pick()->query(batch, [this, who, table, rows, xid, done, attempt](Core::AsyncReply &reply) {
        if (reply.error || reply.results.size() < 4) {
            qCWarning(lcAuth).noquote() << "RLS check failed:" << (reply.error ? reply.error->message : QString());
            done({}, true); // fail closed
            return;
        }
        if (reply.results[2].value(0, 1) != u"t"_qs) {
            // Decoded but not yet visible: ask again in a moment (give up after ~2 s).
            if (attempt >= 400) {
                qCWarning(lcAuth) << "transaction" << xid << "never became visible; dropping its RLS rows";
                done({}, true);
                return;
            }
            QTimer::singleShot(attempt < 10 ? 0 : 5, this, [this, who, table, rows, xid, done, attempt] {
                visibleRows(who, table, rows, xid, done, attempt + 1);
            });
            return;
        }
        QSet<QString> visible;
        const Core::PgResult &r = reply.results[3];
        for (int i = 0; i < r.rows(); ++i)
            visible.insert(r.value(i, 0));
        done(visible, false);
    });
}

} // namespace Realtime
