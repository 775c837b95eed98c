#pragma once

#include "result.h"

#include <QProcessEnvironment>
#include <QString>

namespace Core {

class Project;

// Which database a command talks to. Precedence, first match wins (docs/PROJECT.md):
//   1. --database-url on the command line
//   2. DATABASE_URL in the environment
//   3. DATABASE_URL in the project's .env
//   4. [database] url in pgext.toml
//   5. the project's local cluster (.pgext/), database [database] name
struct ConnectionSettings
{
    enum class Source { Flag, Environment, DotEnv, Manifest, LocalCluster };

    Source source = Source::LocalCluster;
    QString conninfo;     // what libpq gets
    QString display;      // the same with any password masked, for printing
    QString databaseName;

    bool isLocalCluster() const { return source == Source::LocalCluster; }
    static QString sourceName(Source source);

    // `project` may be null (then only 1 and 2 apply).
    static Result<ConnectionSettings> resolve(const Project *project, const QString &flagUrl,
                                              const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());
    // The same server, another database (for CREATE/DROP DATABASE from "postgres").
    Result<QString> conninfoForDatabase(const QString &database) const;
    static QString maskPassword(const QString &conninfo);
};

} // namespace Core
