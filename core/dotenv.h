#pragma once

#include "result.h"

#include <QMap>
#include <QString>

namespace Core {

// Reads a `.env` file the way docker compose and PostgREST users expect:
// KEY=value, optional `export `, '#' comments, single quotes literal, double quotes
// with \n \" \\ escapes. A malformed line is an error naming file and line.
class DotEnv
{
public:
    static Result<QMap<QString, QString>> parse(const QString &text, const QString &fileName);
    static Result<QMap<QString, QString>> load(const QString &path);
    // Sets KEY=value in a .env file, keeping every other line as it was.
    static Status setValue(const QString &path, const QString &key, const QString &value);
};

} // namespace Core
