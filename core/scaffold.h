#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

namespace Core {

class Project;

// Creates projects from the templates in resources/templates and new files inside a
// project. Nothing is left half-written: a project is assembled in a temporary folder
// and renamed into place.
class Scaffold
{
public:
    static QStringList templates();
    // Creates `directory` (must not exist or be empty) as project `name`.
    static Status initProject(const QString &directory, const QString &name, const QString &templateName);
    // migrations/<UTC timestamp>_<name>.sql; returns its path.
    static Result<QString> newMigration(const Project &project, const QString &name);
    // functions/<name>.sql from the template's generator (or a generic one); returns its path.
    static Result<QString> newFunction(const Project &project, const QString &name);
    // A migration creating table schema.name with the template's table generator.
    static Result<QString> newTable(const Project &project, const QString &qualifiedName);

    // 64 URL-safe characters from the system CSPRNG (384 bits).
    static QString generateSecret(int bytes = 48);
    // A free TCP port on 127.0.0.1 in [from, to], or 0.
    static int freePort(int from, int to);
};

} // namespace Core
