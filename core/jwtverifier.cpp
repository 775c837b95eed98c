#include "jwtverifier.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <jwt.h>

#include <cstdlib>
#include <memory>

namespace Core {

static Error unauthorized(const QString &message, const QString &code = u"unauthorized"_qs)
{
    Error e = Error::validation(message);
    e.code = code;
    return e;
}

Result<JwtVerifier> JwtVerifier::create(Config config)
{
    if (config.secret.size() < MinimumSecretLength)
        return Error::validation(u"the JWT secret is %1 characters long; at least %2 are required"_qs
                                     .arg(config.secret.size()).arg(MinimumSecretLength),
                                 u"Use the same JWT_SECRET as PostgREST: a random string of 32 characters or more "
                                 "(`pgext init` generates one in .env)."_qs);
    if (!config.roleClaimKey.startsWith(u'.') || config.roleClaimKey.size() < 2)
        return Error::validation(u"invalid role claim key \"%1\""_qs.arg(config.roleClaimKey),
                                 u"Write it like PostgREST's jwt-role-claim-key, e.g. .role or .app.role."_qs);
    JwtVerifier v;
    v.m_config = std::move(config);
    return v;
}

// A NumericDate must be a JSON number; anything else is a malformed token.
static Result<std::optional<qint64>> numericClaim(const QJsonObject &claims, const QString &name)
{
    if (!claims.contains(name))
        return std::optional<qint64>();
    const QJsonValue v = claims.value(name);
    if (!v.isDouble())
        return unauthorized(u"JWT claim \"%1\" must be a number"_qs.arg(name));
    return std::optional<qint64>(qint64(v.toDouble()));
}

Result<JwtVerifier::Claims> JwtVerifier::verify(const QString &token, qint64 now) const
{
    if (token.isEmpty())
        return unauthorized(u"empty token"_qs);
    const QByteArray raw = token.toUtf8();
    if (raw.size() > m_config.maxTokenBytes)
        return unauthorized(u"token is larger than %1 bytes"_qs.arg(m_config.maxTokenBytes));
    if (raw.count('.') != 2)
        return unauthorized(u"malformed token: expected 3 parts separated by dots"_qs);

    // The header's "alg" must be exactly one of the HMAC names (JWA names are
    // case-sensitive; libjwt would take "hs256" too). PostgREST's JOSE library refuses a
    // key shorter than the hash, so does this.
    jwt_alg_t expected = JWT_ALG_HS256;
    {
        const QByteArray header = QByteArray::fromBase64(raw.left(raw.indexOf('.')),
                                                         QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
        const QJsonDocument h = QJsonDocument::fromJson(header);
        if (!h.isObject())
            return unauthorized(u"malformed token: the header is not base64url-encoded JSON"_qs);
        const QString alg = h.object().value(u"alg"_qs).toString();
        int minimumKey = 0;
        if (alg == u"HS256"_qs) {
            expected = JWT_ALG_HS256;
            minimumKey = 32;
        } else if (alg == u"HS384"_qs) {
            expected = JWT_ALG_HS384;
            minimumKey = 48;
        } else if (alg == u"HS512"_qs) {
            expected = JWT_ALG_HS512;
            minimumKey = 64;
        } else {
            return unauthorized(u"invalid token: algorithm must be HS256, HS384 or HS512"_qs);
        }
        if (m_config.secret.size() < minimumKey)
            return unauthorized(u"invalid token: bad signature (%1 needs a secret of at least %2 bytes)"_qs.arg(alg).arg(minimumKey));
    }
    // Always pass the key: with no key libjwt would accept alg "none".
    jwt_t *rawJwt = nullptr;
    const int rc = jwt_decode(&rawJwt, raw.constData(), reinterpret_cast<const unsigned char *>(m_config.secret.constData()),
                              int(m_config.secret.size()));
    std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(rawJwt, &jwt_free);
    if (rc != 0 || !jwt)
        return unauthorized(u"invalid token: bad encoding or signature"_qs);
    if (jwt_get_alg(jwt.get()) != expected)
        return unauthorized(u"invalid token: algorithm mismatch"_qs);

    char *json = jwt_get_grants_json(jwt.get(), nullptr);
    if (!json)
        return unauthorized(u"invalid token: no claims"_qs);
    const QByteArray claimsJson(json);
    free(json); // libjwt 1.10 allocates with the system allocator
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(claimsJson, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return unauthorized(u"invalid token: claims are not a JSON object"_qs);

    Claims out;
    out.claims = doc.object();
    const int skew = m_config.clockSkewSeconds;
    auto exp = numericClaim(out.claims, u"exp"_qs);
    if (!exp)
        return exp.error();
    auto nbf = numericClaim(out.claims, u"nbf"_qs);
    if (!nbf)
        return nbf.error();
    auto iat = numericClaim(out.claims, u"iat"_qs);
    if (!iat)
        return iat.error();
    if (*exp && now - skew > **exp)
        return unauthorized(u"JWT expired"_qs, u"token_expired"_qs);
    if (*nbf && now + skew < **nbf)
        return unauthorized(u"JWT not yet valid (nbf)"_qs);
    if (*iat && now + skew < **iat)
        return unauthorized(u"JWT issued in the future (iat)"_qs);
    out.exp = *exp;

    if (!m_config.audience.isEmpty() && out.claims.contains(u"aud"_qs)) {
        const QJsonValue aud = out.claims.value(u"aud"_qs);
        bool match = false;
        if (aud.isString())
            match = aud.toString() == m_config.audience;
        else if (aud.isArray())
            for (const QJsonValue &a : aud.toArray())
                match = match || (a.isString() && a.toString() == m_config.audience);
        else
            return unauthorized(u"JWT claim \"aud\" must be a string or an array of strings"_qs);
        if (!match)
            return unauthorized(u"JWT not in audience"_qs);
    }

    // Role from the claim path (".role", ".app.role"); absent means the anonymous role.
    QJsonValue cursor = out.claims;
    for (const QString &part : m_config.roleClaimKey.mid(1).split(u'.')) {
        if (!cursor.isObject()) {
            cursor = QJsonValue(QJsonValue::Undefined);
            break;
        }
        cursor = cursor.toObject().value(part);
    }
    // PostgREST takes whatever JSON value sits there as the role's name ("true", "5",
    // "null", ""); only a path that leads nowhere means the anonymous role. Whether such
    // a role exists is PostgreSQL's to say, and the caller asks it.
    if (cursor.isUndefined()) {
        if (m_config.anonymousRole.isEmpty())
            return unauthorized(u"token has no role claim and no anonymous role is configured"_qs);
        out.role = m_config.anonymousRole;
    } else if (cursor.isString()) {
        out.role = cursor.toString();
    } else if (cursor.isNull()) {
        out.role = u"null"_qs;
    } else if (cursor.isBool()) {
        out.role = cursor.toBool() ? u"true"_qs : u"false"_qs;
    } else if (cursor.isDouble()) {
        const double d = cursor.toDouble();
        out.role = d == double(cursor.toInteger()) ? QString::number(cursor.toInteger()) : QString::number(d, 'g', 17);
    } else {
        out.role = QString::fromUtf8(cursor.isObject() ? QJsonDocument(cursor.toObject()).toJson(QJsonDocument::Compact)
                                                       : QJsonDocument(cursor.toArray()).toJson(QJsonDocument::Compact));
    }
    out.claims.insert(u"role"_qs, out.role);
    return out;
}

std::optional<JwtVerifier::Claims> JwtVerifier::anonymous() const
{
    if (m_config.anonymousRole.isEmpty())
        return std::nullopt;
    Claims c;
    c.role = m_config.anonymousRole;
    c.claims.insert(u"role"_qs, c.role);
    return c;
}

} // namespace Core
