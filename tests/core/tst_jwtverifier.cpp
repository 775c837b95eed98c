#include "jwtverifier.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QTest>

using namespace Core;

// Tokens are built here by hand (base64url + HMAC from Qt), independently of libjwt, and
// judged against PostgREST's rules.
class TestJwtVerifier : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void tokens_data();
    void tokens();
    void shortSecretRefused();
    void hmacAlgorithms_data();
    void hmacAlgorithms();
    void claimsCarryTheRole();
};

static const QByteArray Secret = "reallyreallyreallyreallyverysafe-0123456789";
static const qint64 Now = 1800000000;

static QByteArray b64(const QByteArray &data)
{
    return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

static QByteArray sign(const QByteArray &input, QCryptographicHash::Algorithm alg, const QByteArray &key = Secret)
{
    return b64(QMessageAuthenticationCode::hash(input, key, alg));
}

static QString token(const QByteArray &header, const QByteArray &payload,
                     QCryptographicHash::Algorithm alg = QCryptographicHash::Sha256, const QByteArray &key = Secret)
{
    const QByteArray input = b64(header) + '.' + b64(payload);
    return QString::fromLatin1(input + '.' + sign(input, alg, key));
}

static const QByteArray HS256 = R"({"alg":"HS256","typ":"JWT"})";

static QString claims(const QString &json)
{
    return token(HS256, json.toUtf8());
}

void TestJwtVerifier::tokens_data()
{
    QTest::addColumn<QString>("tok");
    QTest::addColumn<QString>("audience");
    QTest::addColumn<QString>("anonRole");
    QTest::addColumn<QString>("roleKey");
    QTest::addColumn<QString>("expect"); // role name, or "!code"

    const QString none, anon = u"web_anon"_qs, key = u".role"_qs;
    auto row = [&](const char *name, const QString &tok, const QString &expect, const QString &aud = {},
                   const QString &anonRole = {}, const QString &roleKey = u".role"_qs) {
        QTest::newRow(name) << tok << aud << anonRole << roleKey << expect;
    };
    const QString exp = QString::number(Now + 3600);
    row("valid", claims(u"{\"role\":\"app_user\",\"exp\":%1}"_qs.arg(exp)), u"app_user"_qs);
    row("valid without exp", claims(u"{\"role\":\"app_user\"}"_qs), u"app_user"_qs);
    row("valid without typ header", token(R"({"alg":"HS256"})", R"({"role":"app_user"})"), u"app_user"_qs);
    row("alg none unsigned", QString::fromLatin1(b64(R"({"alg":"none","typ":"JWT"})") + '.' + b64(R"({"role":"postgres"})") + '.'),
        u"!unauthorized"_qs);
    row("alg none with signature", token(R"({"alg":"none"})", R"({"role":"postgres"})"), u"!unauthorized"_qs);
    row("alg lower-case hs256", token(R"({"alg":"hs256"})", R"({"role":"app_user"})"), u"!unauthorized"_qs);
    // A 43-byte secret: enough for HS256 only (PostgREST's JOSE library wants a key at
    // least as long as the hash; hmacAlgorithms() covers the longer secrets).
    row("HS384 with a short secret", token(R"({"alg":"HS384"})", R"({"role":"app_user"})", QCryptographicHash::Sha384), u"!unauthorized"_qs);
    row("HS512 with a short secret", token(R"({"alg":"HS512"})", R"({"role":"app_user"})", QCryptographicHash::Sha512), u"!unauthorized"_qs);
    row("RS256 header with HMAC signature", token(R"({"alg":"RS256"})", R"({"role":"app_user"})"), u"!unauthorized"_qs);
    row("wrong key", token(HS256, R"({"role":"app_user"})", QCryptographicHash::Sha256, "another-secret-that-is-long-enough-000"),
        u"!unauthorized"_qs);
    row("exp 29 s past", claims(u"{\"role\":\"r\",\"exp\":%1}"_qs.arg(Now - 29)), u"r"_qs);
    row("exp 30 s past", claims(u"{\"role\":\"r\",\"exp\":%1}"_qs.arg(Now - 30)), u"r"_qs);
    row("exp 31 s past", claims(u"{\"role\":\"r\",\"exp\":%1}"_qs.arg(Now - 31)), u"!token_expired"_qs);
    row("exp long past", claims(u"{\"role\":\"r\",\"exp\":1000}"_qs), u"!token_expired"_qs);
    row("exp as string", claims(u"{\"role\":\"r\",\"exp\":\"%1\"}"_qs.arg(exp)), u"!unauthorized"_qs);
    row("exp null", claims(u"{\"role\":\"r\",\"exp\":null}"_qs), u"!unauthorized"_qs);
    row("exp fractional future", claims(u"{\"role\":\"r\",\"exp\":%1.5}"_qs.arg(exp)), u"r"_qs);
    row("nbf 29 s ahead", claims(u"{\"role\":\"r\",\"nbf\":%1}"_qs.arg(Now + 29)), u"r"_qs);
    row("nbf 31 s ahead", claims(u"{\"role\":\"r\",\"nbf\":%1}"_qs.arg(Now + 31)), u"!unauthorized"_qs);
    row("nbf past", claims(u"{\"role\":\"r\",\"nbf\":%1}"_qs.arg(Now - 100)), u"r"_qs);
    row("iat 29 s ahead", claims(u"{\"role\":\"r\",\"iat\":%1}"_qs.arg(Now + 29)), u"r"_qs);
    row("iat 31 s ahead", claims(u"{\"role\":\"r\",\"iat\":%1}"_qs.arg(Now + 31)), u"!unauthorized"_qs);
    row("iat past", claims(u"{\"role\":\"r\",\"iat\":%1}"_qs.arg(Now - 5000)), u"r"_qs);
    row("iat as string", claims(u"{\"role\":\"r\",\"iat\":\"yesterday\"}"_qs), u"!unauthorized"_qs);
    row("aud string match", claims(u"{\"role\":\"r\",\"aud\":\"app\"}"_qs), u"r"_qs, u"app"_qs);
    row("aud string mismatch", claims(u"{\"role\":\"r\",\"aud\":\"other\"}"_qs), u"!unauthorized"_qs, u"app"_qs);
    row("aud array contains", claims(u"{\"role\":\"r\",\"aud\":[\"x\",\"app\"]}"_qs), u"r"_qs, u"app"_qs);
    row("aud array without", claims(u"{\"role\":\"r\",\"aud\":[\"x\",\"y\"]}"_qs), u"!unauthorized"_qs, u"app"_qs);
    row("aud empty array", claims(u"{\"role\":\"r\",\"aud\":[]}"_qs), u"!unauthorized"_qs, u"app"_qs);
    row("aud absent while configured", claims(u"{\"role\":\"r\"}"_qs), u"r"_qs, u"app"_qs);
    row("aud present, not configured", claims(u"{\"role\":\"r\",\"aud\":\"anything\"}"_qs), u"r"_qs);
    row("aud number", claims(u"{\"role\":\"r\",\"aud\":5}"_qs), u"!unauthorized"_qs, u"app"_qs);
    row("no role, anonymous configured", claims(u"{\"sub\":\"1\"}"_qs), anon, {}, anon);
    row("no role, no anonymous role", claims(u"{\"sub\":\"1\"}"_qs), u"!unauthorized"_qs);
    // PostgREST takes any JSON value at the claim path as the role's name; PostgreSQL then
    // refuses the role (the server asks it at auth, as PostgREST does per request).
    row("role null", claims(u"{\"role\":null}"_qs), u"null"_qs, {}, anon);
    row("role number", claims(u"{\"role\":5}"_qs), u"5"_qs, {}, anon);
    row("role fraction", claims(u"{\"role\":1.5}"_qs), u"1.5"_qs, {}, anon);
    row("role true", claims(u"{\"role\":true}"_qs), u"true"_qs, {}, anon);
    row("role object", claims(u"{\"role\":{\"a\":1}}"_qs), u"{\"a\":1}"_qs, {}, anon);
    row("role empty", claims(u"{\"role\":\"\"}"_qs), QString(), {}, anon);
    row("nested role claim key", claims(u"{\"app\":{\"role\":\"nested\"},\"role\":\"top\"}"_qs), u"nested"_qs, {}, {}, u".app.role"_qs);
    row("nested key, path is not an object", claims(u"{\"app\":\"x\"}"_qs), anon, {}, anon, u".app.role"_qs);
    row("malformed base64 payload", QString::fromLatin1(b64(HS256) + ".@@@." + sign(b64(HS256) + ".@@@", QCryptographicHash::Sha256)),
        u"!unauthorized"_qs);
    row("malformed base64 header", QString::fromLatin1("%%%." + b64(R"({"role":"r"})") + ".abc"), u"!unauthorized"_qs);
    row("two segments", QString::fromLatin1(b64(HS256) + '.' + b64(R"({"role":"r"})")), u"!unauthorized"_qs);
    row("four segments", claims(u"{\"role\":\"r\"}"_qs) + u".extra"_qs, u"!unauthorized"_qs);
    row("empty", QString(), u"!unauthorized"_qs);
    row("payload not json", token(HS256, "not json"), u"!unauthorized"_qs);
    row("payload is an array", token(HS256, "[1,2]"), u"!unauthorized"_qs);
    row("tampered payload", []() -> QString {
        const QString good = claims(u"{\"role\":\"app_user\"}"_qs);
        return good.section(u'.', 0, 0) + u'.' + QString::fromLatin1(b64(R"({"role":"postgres"})")) + u'.' + good.section(u'.', 2);
    }(), u"!unauthorized"_qs);
    row("truncated signature", claims(u"{\"role\":\"r\"}"_qs).chopped(3), u"!unauthorized"_qs);
    row("oversized", claims(u"{\"role\":\"r\",\"pad\":\"%1\"}"_qs.arg(QString(20000, u'x'))), u"!unauthorized"_qs);
    row("leading space", u" "_qs + claims(u"{\"role\":\"r\"}"_qs), u"!unauthorized"_qs);
}

void TestJwtVerifier::tokens()
{
    QFETCH(QString, tok);
    QFETCH(QString, audience);
    QFETCH(QString, anonRole);
    QFETCH(QString, roleKey);
    QFETCH(QString, expect);
    JwtVerifier::Config config;
    config.secret = Secret;
    config.audience = audience;
    config.anonymousRole = anonRole;
    config.roleClaimKey = roleKey;
    auto verifier = JwtVerifier::create(config);
    QVERIFY(verifier.ok());
    auto result = verifier->verify(tok, Now);
    if (expect.startsWith(u'!')) {
        QVERIFY2(!result.ok(), qPrintable(u"accepted, role "_qs + (result.ok() ? result->role : QString())));
        QCOMPARE(result.error().code, expect.mid(1));
        QVERIFY(!result.error().message.isEmpty());
    } else {
        QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
        QCOMPARE(result->role, expect);
    }
}

void TestJwtVerifier::shortSecretRefused()
{
    JwtVerifier::Config config;
    config.secret = QByteArray(31, 'x');
    auto v = JwtVerifier::create(config);
    QVERIFY(!v.ok());
    QVERIFY(v.error().message.contains(u"at least 32"_qs));
    config.secret = QByteArray(32, 'x');
    QVERIFY(JwtVerifier::create(config).ok());
    config.roleClaimKey = u"role"_qs;
    QVERIFY(!JwtVerifier::create(config).ok());
}

void TestJwtVerifier::hmacAlgorithms_data()
{
    // Measured against PostgREST 12.0.2: an HSnnn token verifies only with a secret of
    // at least nnn/8 bytes.
    QTest::addColumn<int>("secretBytes");
    QTest::addColumn<QString>("alg");
    QTest::addColumn<bool>("accepted");
    for (int bytes : {40, 48, 64}) {
        QTest::addRow("HS256 secret %d", bytes) << bytes << u"HS256"_qs << true;
        QTest::addRow("HS384 secret %d", bytes) << bytes << u"HS384"_qs << (bytes >= 48);
        QTest::addRow("HS512 secret %d", bytes) << bytes << u"HS512"_qs << (bytes >= 64);
    }
}

void TestJwtVerifier::hmacAlgorithms()
{
    QFETCH(int, secretBytes);
    QFETCH(QString, alg);
    QFETCH(bool, accepted);
    JwtVerifier::Config config;
    config.secret = QByteArray(secretBytes, 'k');
    auto verifier = JwtVerifier::create(config);
    QVERIFY(verifier.ok());
    const auto hash = alg == u"HS256"_qs ? QCryptographicHash::Sha256
                      : alg == u"HS384"_qs ? QCryptographicHash::Sha384 : QCryptographicHash::Sha512;
    const QString t = token(u"{\"alg\":\"%1\"}"_qs.arg(alg).toUtf8(), R"({"role":"app_user"})", hash, config.secret);
    QCOMPARE(verifier->verify(t, Now).ok(), accepted);
    // The header must name what signed it.
    const QString lying = token(R"({"alg":"HS256"})", R"({"role":"app_user"})", QCryptographicHash::Sha512, config.secret);
    QVERIFY(!verifier->verify(lying, Now).ok());
}

void TestJwtVerifier::claimsCarryTheRole()
{
    // Defect 13 of the realtime issue: PostgREST puts the role it runs as into
    // request.jwt.claims, for the anonymous role too.
    JwtVerifier::Config config;
    config.secret = Secret;
    config.anonymousRole = u"web_anon"_qs;
    config.roleClaimKey = u".app.role"_qs;
    auto verifier = JwtVerifier::create(config);
    auto custom = verifier->verify(claims(uR"({"app":{"role":"app_user"},"sub":"u1"})"_qs), Now);
    QCOMPARE(custom->claims.value(u"role"_qs).toString(), u"app_user"_qs);
    QCOMPARE(custom->claims.value(u"sub"_qs).toString(), u"u1"_qs);
    // A top-level "role" that is not the configured claim is overwritten, as PostgREST does.
    auto other = verifier->verify(claims(uR"({"role":"app_user","sub":"u1"})"_qs), Now);
    QCOMPARE(other->role, u"web_anon"_qs);
    QCOMPARE(other->claims.value(u"role"_qs).toString(), u"web_anon"_qs);
    const auto anon = verifier->anonymous();
    QVERIFY(anon);
    QCOMPARE(anon->claims, (QJsonObject{{u"role"_qs, u"web_anon"_qs}}));
    config.anonymousRole.clear();
    QVERIFY(!JwtVerifier::create(config)->anonymous());
}

QTEST_APPLESS_MAIN(TestJwtVerifier)
#include "tst_jwtverifier.moc"
