#pragma once

#include <QJsonObject>
#include <QString>

namespace Realtime {

// Who a connection acts as: the role PostgREST would switch to and the claims it would
// put into request.jwt.claims (with "role" set, also for the anonymous role).
// Subscribers with the same identity share every check.
struct Identity
{
    QString role;
    QJsonObject claims;
    bool fromToken = false;   // false: the anonymous role of a connection without a token
    QString key() const;      // role + canonical claims
    QString claimsJson() const;
    bool isValid() const { return !claims.isEmpty(); }
};

} // namespace Realtime
