#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

namespace Core {

// pgext.toml, validated. Every error names file, line, column and key, and unknown
// keys are errors (a typo must not be silently ignored). See docs/PROJECT.md.
struct Manifest
{
    QString name;                 // [project] name
    QString templateName;         // [project] template (informational)

    QString databaseName;         // [database] name: database on the local cluster
    int localPort = 54329;        // [database] port: local cluster port on 127.0.0.1
    QString databaseUrl;          // [database] url: use this database instead of the local cluster
    QString schemaFile = u"schema.sql"_qs;
    QString migrationsDir = u"migrations"_qs;
    QString functionsDir = u"functions"_qs;

    QString postgresBinDir;       // [postgres] bin_dir

    QStringList realtimeTables;   // [realtime] tables
    int realtimePort = 8090;      // [realtime] port
    QString realtimeSlot;         // [realtime] slot

    int postgrestPort = 3000;     // [postgrest] port
    QString postgrestConfig = u"postgrest.conf"_qs;

    QString frontendDir = u"frontend"_qs; // [frontend] dir
    int frontendPort = 5173;      // [frontend] port
    QString frontendDeployDir;    // [frontend] deploy_dir

    static Result<Manifest> parse(const QString &text, const QString &fileName);
    static Result<Manifest> load(const QString &path);
    QString toToml() const;
};

} // namespace Core
