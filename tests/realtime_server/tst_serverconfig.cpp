#include "serverconfig.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Realtime;

class TestServerConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void precedence();
    void errors_data();
    void errors();

private:
    QString write(const QString &name, const QString &text);
    QTemporaryDir m_dir;
};

static const QString Secret = u"0123456789abcdef0123456789abcdef-x"_qs;

QString TestServerConfig::write(const QString &name, const QString &text)
{
    QFile f(m_dir.filePath(name));
    f.open(QIODevice::WriteOnly | QIODevice::Truncate);
    f.write(text.toUtf8());
    return f.fileName();
}

void TestServerConfig::precedence()
{
    const QString env = write(u".env"_qs, u"JWT_SECRET=%1\nDATABASE_URL=postgresql:///fromenvfile\n"_qs.arg(Secret));
    const QString file = write(u"c.toml"_qs, u"[server]\nport = 9001\n[database]\nurl = \"postgresql:///fromfile\"\n"
                                             "[window]\nmax_age_seconds = 30\n"_qs);
    auto c = ServerConfig::load(file, env, {});
    QVERIFY2(c.ok(), qPrintable(c.ok() ? QString() : c.error().toString()));
    QCOMPARE(c->port, 9001);
    QCOMPARE(c->databaseUrl, u"postgresql:///fromfile"_qs);    // file over .env
    QCOMPARE(c->jwtSecret, Secret.toUtf8());                   // from .env
    QCOMPARE(c->window.maxAgeMs, 30000);
    QProcessEnvironment pe;
    pe.insert(u"PG_EVENTS_WS_SERVER_PORT"_qs, u"9002"_qs);
    pe.insert(u"DATABASE_URL"_qs, u"postgresql:///fromenv"_qs);
    pe.insert(u"PG_EVENTS_WS_SERVER_ALLOWED_ORIGINS"_qs, u"https://a.example, https://b.example"_qs);
    auto e = ServerConfig::load(file, env, pe);
    QVERIFY(e.ok());
    QCOMPARE(e->port, 9002);                                   // environment over file
    QCOMPARE(e->databaseUrl, u"postgresql:///fromenv"_qs);
    QCOMPARE(e->allowedOrigins, (QStringList{u"https://a.example"_qs, u"https://b.example"_qs}));
}

void TestServerConfig::errors_data()
{
    QTest::addColumn<QString>("toml");
    QTest::addColumn<QString>("envKey");
    QTest::addColumn<QString>("envValue");
    QTest::addColumn<QString>("message");
    const QString ok = u"[database]\nurl = \"postgresql:///x\"\n[auth]\njwt_secret = \"%1\"\n"_qs.arg(Secret);
    QTest::newRow("no secret") << u"[database]\nurl = \"postgresql:///x\"\n"_qs << QString() << QString() << u"JWT secret is missing or shorter than 32"_qs;
    QTest::newRow("short secret") << u"[database]\nurl = \"x\"\n[auth]\njwt_secret = \"short\"\n"_qs << QString() << QString() << u"shorter than 32"_qs;
    QTest::newRow("no database") << u"[auth]\njwt_secret = \"%1\"\n"_qs.arg(Secret) << QString() << QString() << u"no database"_qs;
    QTest::newRow("port out of range") << ok + u"[server]\nport = 70000\n"_qs << QString() << QString() << u":6:8: server.port: expected a whole number from 1 to 65535"_qs;
    QTest::newRow("port from env not a number") << ok << u"PG_EVENTS_WS_SERVER_PORT"_qs << u"eighty"_qs << u"environment PG_EVENTS_WS_SERVER_PORT: server.port"_qs;
    QTest::newRow("unknown key") << ok + u"[server]\nprot = 1\n"_qs << QString() << QString() << u"unknown setting \"server.prot\""_qs;
    QTest::newRow("unknown section") << ok + u"[serverr]\nport = 1\n"_qs << QString() << QString() << u"unknown setting \"serverr.port\""_qs;
    QTest::newRow("section defined twice") << ok + u"[database]\nslot = \"x\"\n"_qs << QString() << QString() << u"invalid TOML"_qs;
    QTest::newRow("bad slot via env") << ok << u"PG_EVENTS_WS_DATABASE_SLOT"_qs << u"Bad-Slot"_qs << u"invalid replication slot name"_qs;
    QTest::newRow("invalid toml") << u"[server\nport = 1\n"_qs << QString() << QString() << u"invalid TOML"_qs;
    QTest::newRow("negative window") << ok + u"[window]\nmax_events = -1\n"_qs << QString() << QString() << u"window.max_events"_qs;
    QTest::newRow("message smaller than frame") << ok + u"[limits]\nmax_frame_bytes = 100000\nmax_message_bytes = 50000\n"_qs
                                                << QString() << QString() << u"must be at least limits.max_frame_bytes"_qs;
}

void TestServerConfig::errors()
{
    QFETCH(QString, toml);
    QFETCH(QString, envKey);
    QFETCH(QString, envValue);
    QFETCH(QString, message);
    QProcessEnvironment pe;
    if (!envKey.isEmpty())
        pe.insert(envKey, envValue);
    auto c = ServerConfig::load(write(u"bad.toml"_qs, toml), {}, pe);
    QVERIFY(!c.ok());
    QVERIFY2(c.error().message.contains(message), qPrintable(c.error().message));
}

QTEST_APPLESS_MAIN(TestServerConfig)
#include "tst_serverconfig.moc"
