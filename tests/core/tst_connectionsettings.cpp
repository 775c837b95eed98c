#include "connectionsettings.h"
#include "testproject.h"

#include <QTest>

using namespace Core;

class TestConnectionSettings : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void precedence_data();
    void precedence();
    void badUrl();
    void mask_data();
    void mask();
    void otherDatabase();
};

void TestConnectionSettings::precedence_data()
{
    QTest::addColumn<QString>("flag");
    QTest::addColumn<QString>("envUrl");
    QTest::addColumn<QString>("dotenvUrl");
    QTest::addColumn<QString>("manifestUrl");
    QTest::addColumn<int>("source");
    QTest::addColumn<QString>("database");

    const QString f = u"postgresql://f@h/flagdb"_qs, e = u"postgresql://e@h/envdb"_qs,
                  d = u"postgresql://d@h/dotdb"_qs, m = u"postgresql://m@h/mandb"_qs;
    QTest::newRow("flag wins over all") << f << e << d << m << int(ConnectionSettings::Source::Flag) << u"flagdb"_qs;
    QTest::newRow("environment over .env") << QString() << e << d << m << int(ConnectionSettings::Source::Environment) << u"envdb"_qs;
    QTest::newRow(".env over manifest") << QString() << QString() << d << m << int(ConnectionSettings::Source::DotEnv) << u"dotdb"_qs;
    QTest::newRow("manifest over local") << QString() << QString() << QString() << m << int(ConnectionSettings::Source::Manifest) << u"mandb"_qs;
    QTest::newRow("local cluster last") << QString() << QString() << QString() << QString()
                                        << int(ConnectionSettings::Source::LocalCluster) << u"demo"_qs;
    QTest::newRow("key=value conninfo") << u"host=h dbname=kv user=x"_qs << QString() << QString() << QString()
                                        << int(ConnectionSettings::Source::Flag) << u"kv"_qs;
}

void TestConnectionSettings::precedence()
{
    QFETCH(QString, flag);
    QFETCH(QString, envUrl);
    QFETCH(QString, dotenvUrl);
    QFETCH(QString, manifestUrl);
    QFETCH(int, source);
    QFETCH(QString, database);

    TestProject tp(u"demo"_qs, 54999, manifestUrl.isEmpty() ? QString() : u"url = \"%1\"\n"_qs.arg(manifestUrl));
    if (!dotenvUrl.isEmpty())
        tp.write(u".env"_qs, u"DATABASE_URL=%1\n"_qs.arg(dotenvUrl));
    const Project project = tp.open();
    QProcessEnvironment env;
    if (!envUrl.isEmpty())
        env.insert(u"DATABASE_URL"_qs, envUrl);
    auto s = ConnectionSettings::resolve(&project, flag, env);
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().toString()));
    QCOMPARE(int(s->source), source);
    QCOMPARE(s->databaseName, database);
    QCOMPARE(s->isLocalCluster(), source == int(ConnectionSettings::Source::LocalCluster));
    if (s->isLocalCluster())
        QVERIFY(s->conninfo.contains(u".pgext/run"_qs) || s->conninfo.contains(u"/tmp/pgext-"_qs));
}

void TestConnectionSettings::badUrl()
{
    auto s = ConnectionSettings::resolve(nullptr, u"postgresql://h/db?nosuchoption=1"_qs, {});
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.contains(u"invalid database URL from --database-url"_qs), qPrintable(s.error().message));
    auto none = ConnectionSettings::resolve(nullptr, QString(), {});
    QVERIFY(!none.ok());
    QVERIFY(!none.error().hint.isEmpty());
}

void TestConnectionSettings::mask_data()
{
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::newRow("uri") << u"postgresql://bob:s3cret@db:5432/x"_qs << u"postgresql://bob:****@db:5432/x"_qs;
    QTest::newRow("uri without password") << u"postgres://bob@db/x"_qs << u"postgres://bob@db/x"_qs;
    QTest::newRow("key value") << u"host=db password=s3cret dbname=x"_qs << u"host=db password=**** dbname=x"_qs;
    QTest::newRow("quoted key value") << u"password='a b\\' c' host=db"_qs << u"password=**** host=db"_qs;
}

void TestConnectionSettings::mask()
{
    QFETCH(QString, in);
    QFETCH(QString, out);
    QCOMPARE(ConnectionSettings::maskPassword(in), out);
}

void TestConnectionSettings::otherDatabase()
{
    auto s = ConnectionSettings::resolve(nullptr, u"postgresql://bob:pw@db.example:6543/app?sslmode=require"_qs, {});
    QVERIFY(s.ok());
    auto info = s->conninfoForDatabase(u"postgres"_qs);
    QVERIFY(info.ok());
    QVERIFY2(info->contains(u"dbname='postgres'"_qs), qPrintable(*info));
    QVERIFY(info->contains(u"host='db.example'"_qs));
    QVERIFY(info->contains(u"port='6543'"_qs));
    QVERIFY(info->contains(u"sslmode='require'"_qs));
    QVERIFY(!info->contains(u"app"_qs));
}

QTEST_GUILESS_MAIN(TestConnectionSettings)
#include "tst_connectionsettings.moc"
