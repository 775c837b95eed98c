#pragma once

#include "manifest.h"
#include "migrationfile.h"
#include "result.h"

#include <QMap>
#include <QString>

#include <vector>

namespace Core {

// A pgext project on disk: pgext.toml, .env, schema.sql, migrations/, functions/,
// frontend/, postgrest.conf, docker-compose.yml, and the private .pgext/ folder.
class Project
{
public:
    // Loads the project whose root is `root` (the folder holding pgext.toml).
    static Result<Project> open(const QString &root);
    // Walks up from `start` to the first folder with a pgext.toml.
    static Result<Project> find(const QString &start);

    const QString &root() const { return m_root; }
    const Manifest &manifest() const { return m_manifest; }
    const QMap<QString, QString> &env() const { return m_env; }
    QString path(const QString &relative) const;
    QString stateDir() const { return path(u".pgext"_qs); }
    QString relative(const QString &absolute) const;

    // Baseline, versioned and repeatable files, read and checksummed, in apply order
    // (baseline, versions ascending, repeatables by path). Bad names are errors.
    Result<std::vector<MigrationFile>> migrationFiles() const;

private:
    QString m_root;
    Manifest m_manifest;
    QMap<QString, QString> m_env;
};

} // namespace Core
