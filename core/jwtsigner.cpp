#include "jwtsigner.h"

#include "jwtverifier.h"

#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QRegularExpression>

namespace Core {

static QByteArray b64url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

Result<QString> JwtSigner::signHs256(const QJsonObject &claims, const QByteArray &secret)
{
    if (secret.size() < JwtVerifier::MinimumSecretLength)
        return Error::validation(u"the JWT secret is %1 characters long; at least %2 are required"_qs
                                     .arg(secret.size()).arg(JwtVerifier::MinimumSecretLength),
                                 u"Set JWT_SECRET in .env to a random string of 32 characters or more."_qs);
    const QByteArray header = b64url(R"({"alg":"HS256","typ":"JWT"})");
    const QByteArray payload = b64url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    const QByteArray input = header + '.' + payload;
    const QByteArray signature = QMessageAuthenticationCode::hash(input, secret, QCryptographicHash::Sha256);
    return QString::fromLatin1(input + '.' + b64url(signature));
}

Result<qint64> JwtSigner::parseDuration(const QString &text)
{
    static const QRegularExpression whole(u"^(?:\\d+[smhdw])+$"_qs);
    static const QRegularExpression part(u"(\\d+)([smhdw])"_qs);
    const QString t = text.trimmed().toLower();
    bool isNumber = false;
    const qint64 plain = t.toLongLong(&isNumber);
    if (isNumber && plain > 0)
        return plain;
    if (!whole.match(t).hasMatch())
        return Error::validation(u"invalid duration \"%1\""_qs.arg(text),
                                 u"Write it like 90s, 30m, 1h, 7d or 1h30m."_qs);
    qint64 seconds = 0;
    auto it = part.globalMatch(t);
    while (it.hasNext()) {
        const auto m = it.next();
        const qint64 n = m.captured(1).toLongLong();
        const QChar unit = m.captured(2).at(0);
        const qint64 factor = unit == u's' ? 1 : unit == u'm' ? 60 : unit == u'h' ? 3600 : unit == u'd' ? 86400 : 604800;
        seconds += n * factor;
    }
    if (seconds <= 0 || seconds > 10LL * 365 * 86400)
        return Error::validation(u"duration \"%1\" is out of range"_qs.arg(text), u"Use between 1 s and 10 years."_qs);
    return seconds;
}

} // namespace Core
