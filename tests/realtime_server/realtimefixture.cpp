#include "realtimefixture.h"

#include <QMessageAuthenticationCode>
#include <QTest>
#include <QUuid>

using namespace Core;
using namespace Realtime;

namespace RealtimeFixture {

const QByteArray Secret = "realtime-test-secret-0123456789-abcdefgh";

QString mint(const QJsonObject &claims, const QByteArray &secret, const QByteArray &alg)
{
    auto b64 = [](const QByteArray &d) { return d.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals); };
    const QByteArray input = b64("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + '.' + b64(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    const auto hash = alg == "HS384" ? QCryptographicHash::Sha384 : alg == "HS512" ? QCryptographicHash::Sha512 : QCryptographicHash::Sha256;
    return QString::fromLatin1(input + '.' + b64(QMessageAuthenticationCode::hash(input, secret, hash)));
}

QString userToken(const QString &sub, const QString &role)
{
    return mint({{u"role"_qs, role}, {u"sub"_qs, sub}, {u"exp"_qs, QDateTime::currentSecsSinceEpoch() + 3600}});
}

QString exec(const QString &database, const QString &sql)
{
    auto conn = TestCluster::instance().connect(database);
    auto r = conn.exec(sql);
    if (!r)
        qFatal("SQL failed: %s\n%s", qPrintable(r.error().toString()), qPrintable(sql));
    return r->rows() ? r->value(0, 0) : QString();
}

QString createDatabase(const QString &prefix)
{
    const QString db = TestCluster::instance().freshDatabase(prefix);
    exec(db, uR"(
        CREATE EXTENSION pg_events;
        DO $$ BEGIN
            CREATE ROLE rt_user NOLOGIN;
            CREATE ROLE rt_other NOLOGIN;
            CREATE ROLE rt_anon NOLOGIN;
            CREATE ROLE rt_auth LOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        GRANT rt_user, rt_other, rt_anon TO rt_auth;
        GRANT USAGE ON SCHEMA public TO rt_user, rt_other, rt_anon;
    )"_qs);
    return db;
}

ServerConfig baseConfig(const QString &database, const QString &slot)
{
    ServerConfig c;
    c.port = 0;
    // Checks as PostgREST's kind of authenticator; the replication stream as the superuser.
    c.databaseUrl = TestCluster::instance().conninfo(database) + u" user=rt_auth"_qs;
    c.replicationUrl = TestCluster::instance().conninfo(database);
    c.slot = slot;
    c.jwtSecret = Secret;
    return c;
}

std::unique_ptr<Server> startServer(const ServerConfig &config)
{
    auto server = Server::create(config);
    if (!server)
        qFatal("%s", qPrintable(server.error().toString()));
    if (Status s = (*server)->listen(); !s)
        qFatal("%s", qPrintable(s.error().toString()));
    QElapsedTimer t;
    t.start();
    while (!((*server)->isStreaming() && (*server)->pipeline().isReady()) && t.elapsed() < 20000)
        QTest::qWait(10);
    if (!(*server)->pipeline().isReady())
        qFatal("the server did not catch up with slot %s", qPrintable(config.slot));
    return std::move(server).value();
}

QUrl url(const Server &server)
{
    return QUrl(u"ws://127.0.0.1:%1/"_qs.arg(server.port()));
}

std::unique_ptr<WsClient> client(const Server &server, const QString &token)
{
    auto c = std::make_unique<WsClient>();
    if (!c->open(url(server)))
        qFatal("cannot connect to %s", qPrintable(url(server).toString()));
    if (!token.isEmpty() && !c->auth(token))
        qFatal("auth failed: %s", QJsonDocument(c->messages().last()).toJson().constData());
    return c;
}

void subscribeMarker(WsClient &c)
{
    const auto r = c.subscribe({{u"id"_qs, u"__marker"_qs}, {u"channel"_qs, u"marker"_qs}});
    if (!r || r->value(u"type"_qs) != u"subscribed"_qs)
        qFatal("marker subscription failed: %s", r ? QJsonDocument(*r).toJson().constData() : "no reply");
}

bool waitForMarker(WsClient &c, const QString &database, int ms)
{
    const QString token = QUuid::createUuid().toString(QUuid::WithoutBraces);
    exec(database, u"SELECT pg_events.emit('marker', to_jsonb('%1'::text))"_qs.arg(token));
    return c.waitFor([token](const QJsonObject &m) {
        return m.value(u"sub"_qs) == u"__marker"_qs && m.value(u"payload"_qs).toString() == token;
    }, ms).has_value();
}

} // namespace RealtimeFixture
