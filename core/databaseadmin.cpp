#include "databaseadmin.h"

#include "localcluster.h"
#include "pgconnection.h"
#include "project.h"

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
    // WITH (FORCE) ends other sessions (a dev server's pool) instead of failing on them.
    auto r = conn->exec(u"DROP DATABASE "_qs + PgConnection::quoteIdentifier(m_settings.databaseName) + u" WITH (FORCE)"_qs);
    if (!r)
        return r.error();
    return true;
}

} // namespace Core
