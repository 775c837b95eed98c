#include "databaseadmin.h"

#include "localcluster.h"
#include "pgconnection.h"
#include "project.h"

#include <QThread>

namespace Core {

DatabaseAdmin::DatabaseAdmin(const Project *project, ConnectionSettings settings)
    : m_project(project), m_settings(std::move(settings))
{
}

Status DatabaseAdmin::ensureServer()
{
    if (!m_settings.isLocalCluster() || !m_project)
        return {};
    auto cluster = LocalCluster::forProject(*m_project);
    if (!cluster)
        return cluster.error();
    return cluster->start();
}

static Result<PgConnection> maintenance(const ConnectionSettings &settings)
{
    auto info = settings.conninfoForDatabase(u"postgres"_qs);
    if (!info)
        return info.error();
    return PgConnection::open(*info);
}

Result<bool> DatabaseAdmin::databaseExists()
{
    auto conn = maintenance(m_settings);
    if (!conn)
        return conn.error();
    auto r = conn->exec(u"SELECT 1 FROM pg_database WHERE datname = $1"_qs, {m_settings.databaseName});
    if (!r)
        return r.error();
    return r->rows() > 0;
}

Result<bool> DatabaseAdmin::createDatabase()
{
    if (Status s = ensureServer(); !s)
        return s.error();
    auto conn = maintenance(m_settings);
    if (!conn)
        return conn.error();
    auto exists = conn->exec(u"SELECT 1 FROM pg_database WHERE datname = $1"_qs, {m_settings.databaseName});
    if (!exists)
        return exists.error();
    if (exists->rows() > 0)
        return false;
    auto r = conn->exec(u"CREATE DATABASE "_qs + PgConnection::quoteIdentifier(m_settings.databaseName));
    if (!r)
        return r.error();
    return true;
}

Result<bool> DatabaseAdmin::dropDatabase()
{
    if (Status s = ensureServer(); !s)
        return s.error();
    auto conn = maintenance(m_settings);
    if (!conn)
        return conn.error();
    auto exists = conn->exec(u"SELECT 1 FROM pg_database WHERE datname = $1"_qs, {m_settings.databaseName});
    if (!exists)
        return exists.error();
    if (exists->rows() == 0)
        return false;
    // Logical slots pin a database: DROP DATABASE refuses while one exists, even inactive.
    // End the walsenders using them (a running pg_events_ws reconnects and recreates its
    // slot in the new database), then drop them with the database they belong to.
    auto ended = conn->exec(uR"(SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
                                  WHERE database = $1 AND active_pid IS NOT NULL)"_qs, {m_settings.databaseName});
    if (!ended)
        return ended.error();
    for (int attempt = 0; attempt < 50; ++attempt) {
        auto dropped = conn->exec(uR"(SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots
                                        WHERE database = $1 AND NOT active)"_qs, {m_settings.databaseName});
        if (!dropped)
            return dropped.error();
        auto left = conn->exec(u"SELECT count(*) FROM pg_replication_slots WHERE database = $1"_qs, {m_settings.databaseName});
        if (!left)
            return left.error();
        if (left->value(0, 0) == u"0"_qs)
            break;
        QThread::msleep(100); // a terminated walsender takes a moment to release its slot
    }
    // WITH (FORCE) ends other sessions (a dev server's pool) instead of failing on them.
    auto r = conn->exec(u"DROP DATABASE "_qs + PgConnection::quoteIdentifier(m_settings.databaseName) + u" WITH (FORCE)"_qs);
    if (!r)
        return r.error();
    return true;
}

} // namespace Core
