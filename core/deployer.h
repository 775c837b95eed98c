#pragma once

#include "migrator.h"
#include "project.h"
#include "result.h"

#include <QMap>

namespace Core {

// `pgext deploy [--env <name>]`: brings a target database (DATABASE_URL in .env.<name>)
// to the project's state — extensions, the login signing secret, schema/migrations/
// functions, tracked tables — and writes frontend/ to [frontend] deploy_dir.
// plan() changes nothing; apply() does what the plan says.
class Deployer
{
public:
    struct Target
    {
        QString envName;
        QString envFile;      // relative to the project
        QString conninfo;
        QString display;      // password masked
        QMap<QString, QString> env;
    };
    struct Plan
    {
        MigrationPlan migrations;
        QStringList extensions;   // to create
        QStringList tracking;     // tables to track
        QString frontendSource;   // empty: no frontend to write
        QString frontendTarget;
        int frontendFiles = 0;
        QString serverVersion;
        bool empty() const;
    };

    static Result<Target> resolve(const Project &project, const QString &envName);

    Deployer(const Project &project, Target target);
    const Target &target() const { return m_target; }

    Result<Plan> plan();
    Status apply(const Plan &plan, const std::function<void(const QString &)> &progress);
    // Copies the frontend into place (atomic swap of the folder) with a config.js.
    static Status writeFrontend(const QString &source, const QString &target, const QByteArray &configJs);

private:
    const Project &m_project;
    Target m_target;
    QByteArray m_secret;
};

} // namespace Core
