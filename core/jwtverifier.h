#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace Core {

// PostgREST-compatible token verification (docs/PROTOCOL.md#authentication), on libjwt
// for the signature. libjwt 1.10 checks no claims, so exp/nbf/iat/aud are ours. The same
// inputs get PostgREST 12's verdict (tests/realtime_server/tst_postgrestparity.cpp runs
// the real binary): HS256, HS384 and HS512, each only with a secret at least as long as
// its hash (32, 48, 64 bytes); the role from the claim path, any JSON value there taken
// as its text (PostgreSQL then says whether such a role exists).
class JwtVerifier
{
public:
    struct Config
    {
        QByteArray secret;              // at least 32 characters, like PostgREST
        QString audience;               // when set, "aud" (string or array) must contain it
        QString roleClaimKey = u".role"_qs; // PostgREST's jwt-role-claim-key (a simple .a.b path)
        QString anonymousRole;          // role for tokens without a role claim ("" = refuse)
        int clockSkewSeconds = 30;
        int maxTokenBytes = 16384;
    };
    struct Claims
    {
        QString role;
        // What PostgREST puts in request.jwt.claims: the token's claims with "role" set to
        // the role the request runs as (the anonymous role included).
        QJsonObject claims;
        std::optional<qint64> exp;
    };

    static constexpr int MinimumSecretLength = 32;

    // Refuses a secret shorter than 32 characters, as PostgREST does.
    static Result<JwtVerifier> create(Config config);
    // Error codes: "token_expired" for exp, "unauthorized" for everything else.
    Result<Claims> verify(const QString &token, qint64 nowSeconds) const;
    // A connection without a token, as PostgREST treats a request without one.
    std::optional<Claims> anonymous() const;
    const Config &config() const { return m_config; }

private:
    Config m_config;
};

} // namespace Core
