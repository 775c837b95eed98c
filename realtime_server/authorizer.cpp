#include "authorizer.h"

#include "eventcursor.h"
#include "pgconnection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTimer>

Q_LOGGING_CATEGORY(lcAuth, "pgext.realtime.auth", QtInfoMsg)

namespace Realtime {

using Core::AsyncConnection;
using Core::Error;
using Core::PgConnection;
using Core::PipelineReply;
using Core::PipelineStatement;

// What could change a verdict about a table, as one text compared on every batch:
// names, columns, the RLS switches, grants, the policies, tracking, the replica identity.
static const char FingerprintSql[] = R"(md5(concat_ws('|', n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
    c.relacl::text, c.relreplident,
    (SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.attnum, ',' ORDER BY a.attnum)
       FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
    (SELECT string_agg(p.oid || ':' || p.xmin::text, ',' ORDER BY p.oid) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid),
    (SELECT string_agg(i.indexrelid::text, ',') FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
    EXISTS (SELECT FROM pg_events.tracked_tables t WHERE t.relid = c.oid))))";

// One row per table: everything TableInfo holds. The columns a policy reads come from
// pg_depend; a whole-row reference (deparsed as "t.*") means all of them.
static QString tableSql(const QString &where)
{
    return uR"(SELECT c.oid, n.nspname, c.relname, c.relrowsecurity,
       EXISTS (SELECT FROM pg_events.tracked_tables t WHERE t.relid = c.oid),
       %1,
       (SELECT json_agg(json_build_array(a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnum,
                                         coalesce(a.attnum = ANY (i.indkey), false)) ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a
          LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT json_agg(DISTINCT d.refobjsubid) FROM pg_catalog.pg_policy p
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid = p.oid
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = c.oid AND d.deptype = 'n'
         WHERE p.polrelid = c.oid),
       coalesce((SELECT bool_or(strpos(pg_catalog.pg_get_expr(p.polqual, p.polrelid), quote_ident(c.relname) || '.*') > 0)
                   FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), false)
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND %2)"_qs
        .arg(QString::fromLatin1(FingerprintSql), where);
}

static CheckReply unavailable(const QString &why)
{
    CheckReply r;
    r.status = CheckReply::Status::Unavailable;
    r.error = Error::make(Error::Kind::Connection, why);
    return r;
}

bool Authorizer::isTransient(const Error &e)
{
    if (e.kind == Error::Kind::Connection || e.sqlState.isEmpty())
        return true;
    static const QStringList classes = {u"08"_qs, u"40"_qs, u"53"_qs, u"57"_qs, u"58"_qs, u"XX"_qs, u"55"_qs};
    return classes.contains(e.sqlState.left(2)) || e.sqlState == u"25P02"_qs;
}

Authorizer::Authorizer(Options options, QObject *parent) : QObject(parent), m_options(std::move(options))
{
    for (int i = 0; i < std::max(1, m_options.poolSize); ++i) {
        auto *c = new AsyncConnection(this);
        c->setRollbackLeftovers(true);
        c->setApplicationName(u"pg_events_ws"_qs);
        // Reconnect a pool member that lost its server; queued work was already failed.
        auto reopen = [this, c] { QTimer::singleShot(1000, c, [this, c] { c->open(m_options.conninfo); }); };
        connect(c, &AsyncConnection::disconnected, this, [reopen](const Error &e) {
            qCWarning(lcAuth).noquote() << "check connection lost:" << e.message;
            reopen();
        });
        connect(c, &AsyncConnection::connectionFailed, this, [reopen](const Error &e) {
            qCWarning(lcAuth).noquote() << "cannot open a check connection:" << e.message;
            reopen();
        });
        connect(c, &AsyncConnection::connected, this, [this, c] {
            // pg_events 1.1 brings what the checks call: say so at once, not per check.
            c->query(u"SELECT to_regprocedure('pg_events.visible_rows(regclass,jsonb)') IS NOT NULL"_qs, [this](Core::AsyncReply &r) {
                if (r.error)
                    return;
                if (r.results.front().value(0, 0) != u"t"_qs) {
                    m_problem = u"pg_events in this database is older than 1.1 (no pg_events.visible_rows): run "
                                "ALTER EXTENSION pg_events UPDATE"_qs;
                    qCCritical(lcAuth).noquote() << m_problem;
                } else {
                    m_problem.clear();
                }
            });
        });
        m_pool.push_back(c);
    }
}

void Authorizer::open()
{
    for (auto *c : m_pool)
        c->open(m_options.conninfo);
}

bool Authorizer::isReady() const
{
    for (auto *c : m_pool)
        if (c->isUsable())
            return true;
    return false;
}

AsyncConnection *Authorizer::pick(bool live)
{
    // The first connection carries the live batches; subscribe-time questions and
    // replays take the others, so a flood of them cannot delay live delivery.
    if (live && m_pool.front()->isUsable())
        return m_pool.front();
    for (size_t n = 0; n < m_pool.size(); ++n) {
        AsyncConnection *c = m_pool[(m_next + n) % m_pool.size()];
        if (!c->isUsable() || (!live && c == m_pool.front() && m_pool.size() > 1))
            continue;
        m_next = (m_next + n + 1) % m_pool.size();
        return c;
    }
    return m_pool.front()->isUsable() ? m_pool.front() : nullptr;
}

// set_config as PostgREST does it, local to the segment: the role, the claims, the
// search path; then the pre-request function.
std::vector<PipelineStatement> Authorizer::asIdentity(const Identity &who) const
{
    std::vector<PipelineStatement> out;
    PipelineStatement set;
    set.sql = u"SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)"_qs;
    set.params = {who.role, who.claimsJson()};
    if (!m_options.searchPath.isEmpty()) {
        set.sql += u", set_config('search_path', $3, true)"_qs;
        set.params << m_options.searchPath;
    }
    out.push_back(set);
    if (!m_options.preRequest.isEmpty()) {
        const QStringList parts = m_options.preRequest.split(u'.');
        PipelineStatement pre;
        pre.sql = u"SELECT "_qs + (parts.size() == 2 ? PgConnection::quoteIdentifier(parts[0]) + u'.' + PgConnection::quoteIdentifier(parts[1])
                                                     : PgConnection::quoteIdentifier(parts.value(0)))
                  + u"()"_qs;
        out.push_back(pre);
    }
    return out;
}

// The first error of a pipeline segment, or none.
static std::optional<Error> segmentError(const PipelineReply &reply, size_t from, size_t to)
{
    for (size_t i = from; i < to && i < reply.statements.size(); ++i)
        if (reply.statements[i].error)
            return reply.statements[i].error;
    return std::nullopt;
}

void Authorizer::checkIdentity(const Identity &who, std::function<void(Outcome)> done)
{
    AsyncConnection *c = pick(false);
    if (!c) {
        done(Outcome::unavailable(u"the database is not reachable"_qs));
        return;
    }
    auto statements = asIdentity(who);
    const size_t n = statements.size();
    c->pipeline(std::move(statements), [done, n](PipelineReply &reply) {
        if (reply.error) {
            done(Outcome::unavailable(reply.error->message));
            return;
        }
        if (auto e = segmentError(reply, 0, n)) {
            if (isTransient(*e))
                done(Outcome::unavailable(e->message));
            else // PostgREST: 22023 (no such role) is 400, the rest (42501, a pre-request's raise) 401/403
                done(Outcome::refused(e->sqlState == u"22023"_qs ? u"unauthorized"_qs : u"forbidden"_qs, e->message));
            return;
        }
        done({});
    });
}

Core::Result<TableInfo> Authorizer::parseTable(const Core::PgResult &r, int row)
{
    TableInfo info;
    info.relid = r.value(row, 0).toUInt();
    info.schema = r.value(row, 1);
    info.name = r.value(row, 2);
    info.rowSecurity = r.value(row, 3) == u"t"_qs;
    info.tracked = r.value(row, 4) == u"t"_qs;
    info.fingerprint = r.value(row, 5);
    QHash<int, QString> byNumber;
    for (const QJsonValue &v : QJsonDocument::fromJson(r.value(row, 6).toUtf8()).array()) {
        const QJsonArray col = v.toArray();
        const QString name = col.at(0).toString();
        info.columnOrder << name;
        info.columnTypes.insert(name, col.at(1).toString());
        info.columns.insert(name, Core::RowFilter::categoryForType(col.at(1).toString()));
        byNumber.insert(col.at(2).toInt(), name);
        if (col.at(3).toBool())
            info.primaryKey << name;
    }
    if (r.value(row, 8) == u"t"_qs) {
        info.policyColumns = info.columnOrder;
    } else {
        for (const QJsonValue &v : QJsonDocument::fromJson(r.value(row, 7).toUtf8()).array())
            if (byNumber.contains(v.toInt()))
                info.policyColumns << byNumber.value(v.toInt());
    }
    return info;
}

void Authorizer::resolveTable(const Identity &who, const QString &schema, const QString &table,
                              std::function<void(Outcome, std::shared_ptr<const TableInfo>)> done)
{
    AsyncConnection *c = pick(false);
    if (!c) {
        done(Outcome::unavailable(u"the database is not reachable"_qs), nullptr);
        return;
    }
    // Exact names, no case folding (public.Tasks is "Tasks"), as PostgREST resolves them.
    PipelineStatement info{tableSql(u"n.nspname = $1 AND c.relname = $2"_qs), {schema, table}, true};
    PipelineStatement privilege{uR"(SELECT CASE WHEN to_regrole($1) IS NULL THEN 'no_role'
            WHEN NOT pg_has_role(session_user, to_regrole($1), 'MEMBER') THEN 'no_switch'
            WHEN NOT has_table_privilege(to_regrole($1), c.oid, 'SELECT') THEN 'no_select' ELSE 'ok' END
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $2 AND c.relname = $3 AND c.relkind IN ('r', 'p'))"_qs, {who.role, schema, table}, true};
    const QString name = schema + u'.' + table;
    c->pipeline({info, privilege}, [done, name, who](PipelineReply &reply) {
        if (reply.error) {
            done(Outcome::unavailable(reply.error->message), nullptr);
            return;
        }
        if (auto e = segmentError(reply, 0, 2)) {
            if (isTransient(*e))
                done(Outcome::unavailable(e->message), nullptr);
            else
                done(Outcome::refused(u"unknown_table"_qs, e->message), nullptr);
            return;
        }
        const Core::PgResult &rows = *reply.statements[0].result;
        if (rows.rows() == 0) {
            done(Outcome::refused(u"unknown_table"_qs, u"table %1 does not exist (names are exact and case-sensitive)"_qs.arg(name)), nullptr);
            return;
        }
        auto parsed = parseTable(rows, 0);
        if (!parsed->tracked) {
            done(Outcome::refused(u"unknown_table"_qs, u"table %1 is not tracked by pg_events; run SELECT pg_events.track('%1') "
                                                       "(pgext dev tracks the tables in pgext.toml)"_qs.arg(name)), nullptr);
            return;
        }
        const QString verdict = reply.statements[1].result->value(0, 0);
        if (verdict == u"no_role"_qs)
            done(Outcome::refused(u"forbidden"_qs, u"role \"%1\" does not exist"_qs.arg(who.role)), nullptr);
        else if (verdict == u"no_switch"_qs)
            done(Outcome::refused(u"forbidden"_qs, u"permission denied to set role \"%1\""_qs.arg(who.role)), nullptr);
        else if (verdict != u"ok"_qs)
            done(Outcome::refused(u"forbidden"_qs, u"role \"%1\" may not SELECT from %2"_qs.arg(who.role, name)), nullptr);
        else
            done({}, std::make_shared<const TableInfo>(std::move(parsed).value()));
    });
}

void Authorizer::canListen(const Identity &who, const QString &channel, std::function<void(Outcome, std::optional<bool>)> done)
{
    AsyncConnection *c = pick(false);
    if (!c) {
        done(Outcome::unavailable(u"the database is not reachable"_qs), std::nullopt);
        return;
    }
    auto statements = asIdentity(who);
    // One statement decides: a rule that fails is a refusal, never "no rule".
    statements.push_back({u"SELECT pg_events.can_listen($1)"_qs, {channel}, true});
    const size_t n = statements.size();
    c->pipeline(std::move(statements), [done, n, channel](PipelineReply &reply) {
        if (reply.error) {
            done(Outcome::unavailable(reply.error->message), std::nullopt);
            return;
        }
        if (auto e = segmentError(reply, 0, n)) {
            if (isTransient(*e))
                done(Outcome::unavailable(e->message), std::nullopt);
            else
                done(Outcome::refused(u"forbidden"_qs, u"not allowed to listen on channel \"%1\": %2"_qs.arg(channel, e->message)),
                     std::nullopt);
            return;
        }
        const Core::PgResult &r = *reply.statements[n - 1].result;
        if (r.isNull(0, 0))
            done({}, std::nullopt);
        else
            done({}, r.value(0, 0) == u"t"_qs);
    });
}

void Authorizer::check(CheckRequest request, bool replay, Done done)
{
    AsyncConnection *c = pick(!replay);
    if (!c) {
        done(unavailable(u"the database is not reachable"_qs));
        return;
    }
    std::vector<PipelineStatement> statements;
    int visibility = -1, fingerprints = -1, privileges = -1;
    if (!request.xids.empty()) {
        // The decoded commits must be visible in the snapshots that follow. xids are 32
        // bits on the wire: widened with the epoch of the snapshot's xmax.
        QStringList xids;
        for (quint64 x : request.xids)
            xids << QString::number(x & 0xFFFFFFFFu);
        visibility = int(statements.size());
        statements.push_back({uR"(SELECT coalesce(bool_and(pg_visible_in_snapshot(
                (CASE WHEN w.c > w.m THEN w.c - 4294967296 ELSE w.c END)::text::xid8, w.s)), true)
              FROM (SELECT s.s, s.m, ((s.m >> 32) << 32) | u.x AS c
                      FROM (SELECT pg_current_snapshot() AS s,
                                   pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS m) s,
                           unnest($1::bigint[]) AS u(x)) w)"_qs,
                              {u'{' + xids.join(u',') + u'}'}, true});
    }
    if (!request.tables.empty()) {
        QStringList oids;
        for (quint32 t : request.tables)
            oids << QString::number(t);
        fingerprints = int(statements.size());
        statements.push_back({u"SELECT c.oid, %1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE c.oid = ANY ($1::oid[])"_qs.arg(QString::fromLatin1(FingerprintSql)),
                              {u'{' + oids.join(u',') + u'}'}, true});
    }
    if (!request.privileges.empty()) {
        QJsonArray roles, tables;
        for (const auto &[role, relid] : request.privileges) {
            roles.append(role);
            tables.append(qint64(relid));
        }
        privileges = int(statements.size());
        statements.push_back({uR"(SELECT u.r, u.t FROM json_array_elements_text($1::json) WITH ORDINALITY AS r(r, o)
              JOIN json_array_elements_text($2::json) WITH ORDINALITY AS t(t, o) USING (o),
                   LATERAL (SELECT r.r, t.t::oid) AS u(r, t)
             WHERE NOT coalesce(pg_has_role(session_user, to_regrole(u.r), 'MEMBER')
                                AND has_table_privilege(to_regrole(u.r), u.t, 'SELECT'), false))"_qs,
                              {QString::fromUtf8(QJsonDocument(roles).toJson(QJsonDocument::Compact)),
                               QString::fromUtf8(QJsonDocument(tables).toJson(QJsonDocument::Compact))},
                              true});
    }
    std::vector<std::pair<size_t, size_t>> groups; // [first, last] statement of each group
    for (const CheckRequest::Group &g : request.groups) {
        const size_t first = statements.size();
        for (PipelineStatement &s : asIdentity(g.who))
            statements.push_back(std::move(s));
        QJsonArray images;
        for (const QJsonObject &image : g.images)
            images.append(image);
        statements.push_back({u"SELECT coalesce(array_agg(v ORDER BY v), '{}')::text "
                              "FROM pg_events.visible_rows($1::oid::regclass, $2::jsonb) v"_qs,
                              {QString::number(g.relid), QString::fromUtf8(QJsonDocument(images).toJson(QJsonDocument::Compact))},
                              true});
        groups.emplace_back(first, statements.size() - 1);
    }
    c->pipeline(std::move(statements), [done, visibility, fingerprints, privileges, groups](PipelineReply &reply) {
        if (reply.error) {
            done(unavailable(reply.error->message));
            return;
        }
        auto single = [&reply](int index) -> const Core::PgResult * {
            return index >= 0 && reply.statements[size_t(index)].result ? &*reply.statements[size_t(index)].result : nullptr;
        };
        for (int index : {visibility, fingerprints, privileges}) {
            if (index >= 0 && !single(index)) {
                const auto &st = reply.statements[size_t(index)];
                done(unavailable(st.error ? st.error->message : u"no result"_qs));
                return;
            }
        }
        CheckReply out;
        if (visibility >= 0 && single(visibility)->value(0, 0) != u"t"_qs) {
            out.status = CheckReply::Status::NotVisible;
            done(out);
            return;
        }
        if (const Core::PgResult *r = single(fingerprints))
            for (int i = 0; i < r->rows(); ++i)
                out.fingerprints.insert(r->value(i, 0).toUInt(), r->value(i, 1));
        if (const Core::PgResult *r = single(privileges))
            for (int i = 0; i < r->rows(); ++i)
                out.denied.insert(CheckReply::privilegeKey(r->value(i, 0), r->value(i, 1).toUInt()));
        for (const auto &[first, last] : groups) {
            CheckReply::Group g;
            if (auto e = segmentError(reply, first, last + 1)) {
                if (isTransient(*e)) {
                    done(unavailable(e->message));
                    return;
                }
                g.error = *e;
            } else if (const auto &st = reply.statements[last]; st.result) {
                const QString text = st.result->value(0, 0);
                for (const QString &p : QStringView(text).mid(1, text.size() - 2).toString().split(u',', Qt::SkipEmptyParts))
                    g.visible.insert(p.toInt());
            }
            out.groups.push_back(std::move(g));
        }
        done(out);
    });
}

void Authorizer::reloadTables(const QList<quint32> &relids, TablesDone done)
{
    AsyncConnection *c = pick(true);
    if (!c) {
        done(Error::make(Error::Kind::Connection, u"the database is not reachable"_qs));
        return;
    }
    QStringList oids;
    for (quint32 t : relids)
        oids << QString::number(t);
    c->pipeline({{tableSql(u"c.oid = ANY ($1::oid[])"_qs), {u'{' + oids.join(u',') + u'}'}, true}},
                [done, relids](PipelineReply &reply) {
                    if (reply.error || !reply.statements.front().result) {
                        const auto &st = reply.statements.front();
                        done(reply.error ? *reply.error
                                         : st.error ? *st.error : Error::make(Error::Kind::Connection, u"no result"_qs));
                        return;
                    }
                    QHash<quint32, std::optional<TableInfo>> out;
                    for (quint32 t : relids)
                        out.insert(t, std::nullopt);
                    const Core::PgResult &r = *reply.statements.front().result;
                    for (int i = 0; i < r.rows(); ++i) {
                        auto info = parseTable(r, i);
                        if (info && info->tracked)
                            out.insert(info->relid, *info);
                    }
                    done(out);
                });
}

void Authorizer::currentWalLsn(std::function<void(quint64)> done)
{
    AsyncConnection *c = pick(false);
    if (!c)
        return;
    c->query(u"SELECT pg_current_wal_lsn()::text"_qs, [done](Core::AsyncReply &reply) {
        if (!reply.error && !reply.results.empty())
            done(Core::Lsn::parse(reply.results.front().value(0, 0)).value_or(0));
    });
}

} // namespace Realtime
