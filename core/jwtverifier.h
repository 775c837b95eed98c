#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace Core {

// PostgREST-compatible HS256 token verification (docs/PROTOCOL.md#authentication), on
// libjwt for the signature. libjwt 1.10 checks no claims, so exp/nbf/iat/aud are ours.
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
        QJsonObject claims;
        std::optional<qint64> exp;
    };

    static constexpr int MinimumSecretLength = 32;

    // Refuses a secret shorter than 32 characters, as PostgREST does.
    static Result<JwtVerifier> create(Config config);
    // Error codes: "token_expired" for exp, "unauthorized" for everything else.
    Result<Claims> verify(const QString &token, qint64 nowSeconds) const;
    const Config &config() const { return m_config; }

private:
    Config m_config;
};

} // namespace Core
