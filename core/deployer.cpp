#include "deployer.h"

#include "connectionsettings.h"
#include "devstack.h"
#include "dotenv.h"
#include "pgconnection.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>

namespace Core {

bool Deployer::Plan::empty() const
{
    return migrations.toApply.empty() && extensions.isEmpty() && tracking.isEmpty() && frontendSource.isEmpty();
}

Result<Deployer::Target> Deployer::resolve(const Project &project, const QString &envName)
{
    Target t;
    t.envName = envName.isEmpty() ? u"production"_qs : envName;
    static const QRegularExpression nameRe(u"^[A-Za-z0-9_-]+$"_qs);
    if (!nameRe.match(t.envName).hasMatch())
        return Error::validation(u"invalid environment name \"%1\""_qs.arg(t.envName),
                                 u"Use letters, digits, '_' or '-'; the target is read from .env.<name>."_qs);
    t.envFile = u".env."_qs + t.envName;
    const QString path = project.path(t.envFile);
    if (!QFileInfo::exists(path))
        return Error::validation(u"%1 does not exist"_qs.arg(t.envFile),
                                 u"Create it with DATABASE_URL=postgresql://user:password@host:5432/db and "
                                 "JWT_SECRET=<at least 32 characters> (keep it out of version control)."_qs);
    auto env = DotEnv::load(path);
    if (!env) {
        Error e = env.error();
        e.file = project.relative(e.file);
        return e;
    }
    t.env = *env;
    const QString url = t.env.value(u"DATABASE_URL"_qs);
    if (url.isEmpty())
        return Error::validation(u"DATABASE_URL is missing from %1"_qs.arg(t.envFile),
                                 u"Add DATABASE_URL=postgresql://user:password@host:5432/db — the role needs to own "
                                 "the schema and be able to create extensions."_qs);
    auto settings = ConnectionSettings::resolve(nullptr, url);
    if (!settings)
        return settings.error();
    t.conninfo = settings->conninfo;
    t.display = settings->display;
    return t;
}

Deployer::Deployer(const Project &project, Target target) : m_project(project), m_target(std::move(target))
{
}

static QString frontendTarget(const Project &project)
{
    const QString dir = project.manifest().frontendDeployDir;
    if (dir.isEmpty())
        return {};
    return QFileInfo(dir).isAbsolute() ? QDir::cleanPath(dir) : QDir::cleanPath(project.path(dir));
}

Result<Deployer::Plan> Deployer::plan()
{
    auto secret = DevStack::checkJwtSecret(m_target.env, m_target.envFile);
    if (!secret)
        return secret.error();
    m_secret = *secret;
    auto conn = PgConnection::open(m_target.conninfo);
    if (!conn)
        return conn.error();
    Plan p;
    p.serverVersion = u"%1.%2"_qs.arg(conn->serverVersion() / 10000).arg(conn->serverVersion() % 10000);
    auto ext = DevStack::ensureExtensions(*conn, true);
    if (!ext)
        return ext.error();
    p.extensions = *ext;
    Migrator migrator(*conn, m_project);
    auto mp = migrator.plan({});
    if (!mp)
        return mp.error();
    if (mp->problem)
        return *mp->problem;
    p.migrations = *mp;
    if (p.extensions.contains(u"pg_events"_qs)) {
        p.tracking = m_project.manifest().realtimeTables;
    } else {
        auto tracking = DevStack::ensureTracking(*conn, m_project, true);
        if (!tracking)
            return tracking.error();
        p.tracking = *tracking;
    }
    const QString source = m_project.path(m_project.manifest().frontendDir);
    p.frontendTarget = frontendTarget(m_project);
    if (!p.frontendTarget.isEmpty() && QFileInfo(source).isDir()) {
        p.frontendSource = source;
        QDirIterator it(source, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            it.next();
            ++p.frontendFiles;
        }
    }
    return p;
}

Status Deployer::apply(const Plan &plan, const std::function<void(const QString &)> &progress)
{
    auto conn = PgConnection::open(m_target.conninfo);
    if (!conn)
        return conn.error();
    auto ext = DevStack::ensureExtensions(*conn, false);
    if (!ext)
        return ext.error();
    for (const QString &e : std::as_const(*ext))
        progress(u"created extension %1"_qs.arg(e));
    if (Status s = DevStack::storeJwtSecret(*conn, m_secret); !s)
        return s;
    Migrator migrator(*conn, m_project);
    Migrator::Options mo;
    mo.progress = progress;
    auto report = migrator.migrate(mo);
    if (!report)
        return report.error();
    auto tracked = DevStack::ensureTracking(*conn, m_project, false);
    if (!tracked)
        return tracked.error();
    for (const QString &t : std::as_const(*tracked))
        progress(u"tracking %1 (pg_events)"_qs.arg(t));
    (void)conn->exec(u"NOTIFY pgrst, 'reload schema'"_qs);
    if (!plan.frontendSource.isEmpty()) {
        const QString pg = m_target.env.value(u"POSTGREST_URL"_qs, u"/rest"_qs);
        const QString rt = m_target.env.value(u"REALTIME_URL"_qs, u"/realtime"_qs);
        if (Status s = writeFrontend(plan.frontendSource, plan.frontendTarget, DevStack::configJs(pg, rt)); !s)
            return s;
        progress(u"wrote the frontend (%1 files) to %2"_qs.arg(plan.frontendFiles).arg(plan.frontendTarget));
    }
    return {};
}

Status Deployer::writeFrontend(const QString &source, const QString &target, const QByteArray &configJs)
{
    // Build beside the target, then swap folders: a web server never sees half a bundle.
    const QString parent = QFileInfo(target).absolutePath();
    if (!QDir().mkpath(parent))
        return Error::io(u"cannot create %1"_qs.arg(parent));
    const QString suffix = QString::number(QRandomGenerator::system()->generate(), 16);
    const QString staging = target + u".new-"_qs + suffix;
    const QString old = target + u".old-"_qs + suffix;
    auto fail = [&](const QString &message) {
        QDir(staging).removeRecursively();
        return Status(Error::io(message));
    };
    QDirIterator it(source, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        const QString rel = QDir(source).relativeFilePath(file);
        const QString out = QDir(staging).filePath(rel);
        QDir().mkpath(QFileInfo(out).absolutePath());
        if (!QFile::copy(file, out))
            return fail(u"cannot copy %1 to %2"_qs.arg(file, out));
    }
    QDir().mkpath(staging);
    QFile config(QDir(staging).filePath(u"config.js"_qs));
    if (!config.open(QIODevice::WriteOnly | QIODevice::Truncate) || config.write(configJs) != configJs.size())
        return fail(u"cannot write %1"_qs.arg(config.fileName()));
    config.close();
    const bool hadOld = QFileInfo::exists(target);
    if (hadOld && !QDir().rename(target, old))
        return fail(u"cannot move the old frontend %1 aside"_qs.arg(target));
    if (!QDir().rename(staging, target)) {
        if (hadOld)
            QDir().rename(old, target);
        return fail(u"cannot move the new frontend into %1"_qs.arg(target));
    }
    if (hadOld)
        QDir(old).removeRecursively();
    return {};
}

} // namespace Core
