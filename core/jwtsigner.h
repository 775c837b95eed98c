#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>

namespace Core {

// HS256 tokens for development (`pgext token`, tests): what PostgREST and pg_events_ws
// accept with the project's JWT_SECRET. Production tokens come from the app's own login
// function (see the todo template's functions/login.sql).
class JwtSigner
{
public:
    // Refuses a secret shorter than 32 characters, like PostgREST.
    static Result<QString> signHs256(const QJsonObject &claims, const QByteArray &secret);
    // "90s", "30m", "1h", "7d", "1h30m" or plain seconds → seconds.
    static Result<qint64> parseDuration(const QString &text);
};

} // namespace Core
