#include "jwtsigner.h"
#include "jwtverifier.h"

#include <QDateTime>
#include <QTest>

using namespace Core;

// `pgext token`'s signer: what it signs, JwtVerifier (PostgREST's rules) accepts.
class TestJwtSigner : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTrip();
    void weakSecretRefused();
    void wrongSecretRejected();
    void durations_data();
    void durations();
};

static const QByteArray Secret = "0123456789abcdef0123456789abcdef-dev";

void TestJwtSigner::roundTrip()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    auto token = JwtSigner::signHs256({{u"sub"_qs, u"42"_qs}, {u"role"_qs, u"todo_user"_qs}, {u"exp"_qs, now + 3600}}, Secret);
    QVERIFY(token);
    QVERIFY(!token->contains(u'=') && !token->contains(u'+') && !token->contains(u'/'));
    auto verifier = JwtVerifier::create({Secret});
    QVERIFY(verifier);
    auto claims = verifier->verify(*token, now);
    QVERIFY2(claims, qPrintable(claims ? QString() : claims.error().toString()));
    QCOMPARE(claims->role, u"todo_user"_qs);
    QCOMPARE(claims->claims.value(u"sub"_qs).toString(), u"42"_qs);
    QCOMPARE(claims->exp, std::optional<qint64>(now + 3600));
    auto expired = verifier->verify(*token, now + 3600 + 31);
    QVERIFY(!expired);
    QCOMPARE(expired.error().code, u"token_expired"_qs);
}

void TestJwtSigner::weakSecretRefused()
{
    auto token = JwtSigner::signHs256({{u"sub"_qs, u"1"_qs}}, "short");
    QVERIFY(!token);
    QVERIFY(token.error().message.contains(u"at least 32"_qs));
}

void TestJwtSigner::wrongSecretRejected()
{
    auto token = JwtSigner::signHs256({{u"sub"_qs, u"1"_qs}}, Secret);
    auto verifier = JwtVerifier::create({QByteArray(40, 'x')});
    QVERIFY(!verifier->verify(*token, QDateTime::currentSecsSinceEpoch()));
}

void TestJwtSigner::durations_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("seconds"); // -1 = invalid
    QTest::newRow("seconds") << u"90"_qs << qint64(90);
    QTest::newRow("90s") << u"90s"_qs << qint64(90);
    QTest::newRow("30m") << u"30m"_qs << qint64(1800);
    QTest::newRow("1h") << u"1h"_qs << qint64(3600);
    QTest::newRow("7d") << u"7d"_qs << qint64(604800);
    QTest::newRow("1h30m") << u"1h30m"_qs << qint64(5400);
    QTest::newRow("2w") << u"2w"_qs << qint64(1209600);
    QTest::newRow("upper case") << u"1H"_qs << qint64(3600);
    QTest::newRow("zero") << u"0"_qs << qint64(-1);
    QTest::newRow("negative") << u"-5m"_qs << qint64(-1);
    QTest::newRow("unit only") << u"h"_qs << qint64(-1);
    QTest::newRow("unknown unit") << u"3y"_qs << qint64(-1);
    QTest::newRow("spaces inside") << u"1 h"_qs << qint64(-1);
    QTest::newRow("empty") << QString() << qint64(-1);
    QTest::newRow("too long") << u"5000w"_qs << qint64(-1);
}

void TestJwtSigner::durations()
{
    QFETCH(QString, text);
    QFETCH(qint64, seconds);
    auto r = JwtSigner::parseDuration(text);
    if (seconds < 0) {
        QVERIFY(!r);
        return;
    }
    QVERIFY2(r, qPrintable(r ? QString() : r.error().toString()));
    QCOMPARE(*r, seconds);
}

QTEST_GUILESS_MAIN(TestJwtSigner)
#include "tst_jwtsigner.moc"
