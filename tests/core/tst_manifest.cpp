#include "dotenv.h"
#include "manifest.h"
#include "migrationfile.h"

#include <QTest>

using namespace Core;

class TestManifest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void valid();
    void invalid_data();
    void invalid();
    void roundTrip();
    void dotenv_data();
    void dotenv();
    void dotenvErrors_data();
    void dotenvErrors();
    void checksum_data();
    void checksum();
    void noTransactionMarker_data();
    void noTransactionMarker();
};

static const QString Minimal = u"[project]\nname = \"demo\"\n[database]\nname = \"demo\"\n"_qs;

void TestManifest::valid()
{
    auto m = Manifest::parse(Minimal + u"port = 55000\n[realtime]\ntables = [\"public.tasks\", \"store.orders\"]\n"_qs,
                             u"pgext.toml"_qs);
    QVERIFY2(m.ok(), qPrintable(m.ok() ? QString() : m.error().toString()));
    QCOMPARE(m->name, u"demo"_qs);
    QCOMPARE(m->databaseName, u"demo"_qs);
    QCOMPARE(m->localPort, 55000);
    QCOMPARE(m->realtimeTables, (QStringList{u"public.tasks"_qs, u"store.orders"_qs}));
    QCOMPARE(m->schemaFile, u"schema.sql"_qs);
    QCOMPARE(m->realtimeSlot, u"pgext_demo"_qs);
}

void TestManifest::invalid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::newRow("toml syntax") << u"[project]\nname = \"demo\n"_qs << u"invalid TOML"_qs << 2 << 13;
    QTest::newRow("unknown section") << Minimal + u"[databse]\nport = 1\n"_qs << u"databse: unknown section"_qs << 5 << 2;
    QTest::newRow("unknown key") << Minimal + u"prot = 5432\n"_qs << u"database.prot: unknown key"_qs << 5 << 1;
    QTest::newRow("port is a string") << Minimal + u"port = \"5432\"\n"_qs << u"database.port: expected a port number"_qs << 5 << 8;
    QTest::newRow("port out of range") << Minimal + u"port = 70000\n"_qs << u"database.port: expected a port number"_qs << 5 << 8;
    QTest::newRow("bad project name") << u"[project]\nname = \"1 bad\"\n[database]\nname = \"x\"\n"_qs
                                      << u"project.name: expected a project name"_qs << 2 << 8;
    QTest::newRow("tables not an array") << Minimal + u"[realtime]\ntables = \"public.tasks\"\n"_qs
                                         << u"realtime.tables: expected an array"_qs << 6 << 10;
    QTest::newRow("unqualified table") << Minimal + u"[realtime]\ntables = [\"tasks\"]\n"_qs
                                       << u"realtime.tables: expected \"schema.table\""_qs << 6 << 11;
    QTest::newRow("section is a value") << u"project = 1\n"_qs << u"project: expected a table"_qs << 1 << 11;
    QTest::newRow("missing project name") << u"[project]\n[database]\nname = \"x\"\n"_qs << u"project.name: required key is missing"_qs << 0 << 0;
    QTest::newRow("missing database name") << u"[project]\nname = \"x\"\n"_qs << u"database.name: required key is missing"_qs << 0 << 0;
    QTest::newRow("empty schema path") << Minimal + u"schema = \"\"\n"_qs << u"database.schema: must not be empty"_qs << 5 << 10;
}

void TestManifest::invalid()
{
    QFETCH(QString, text);
    QFETCH(QString, message);
    QFETCH(int, line);
    QFETCH(int, column);
    auto m = Manifest::parse(text, u"pgext.toml"_qs);
    QVERIFY(!m.ok());
    const Error &e = m.error();
    QVERIFY2(e.message.startsWith(message), qPrintable(e.message));
    QCOMPARE(e.file, u"pgext.toml"_qs);
    QCOMPARE(e.line, line);
    if (column)
        QCOMPARE(e.column, column);
    QVERIFY(e.toString().startsWith(u"pgext.toml"_qs));
}

void TestManifest::roundTrip()
{
    Manifest m;
    m.name = u"shop"_qs;
    m.databaseName = u"shop"_qs;
    m.localPort = 54444;
    m.realtimeTables = {u"public.orders"_qs};
    auto back = Manifest::parse(m.toToml(), u"pgext.toml"_qs);
    QVERIFY2(back.ok(), qPrintable(back.ok() ? QString() : back.error().toString()));
    QCOMPARE(back->name, m.name);
    QCOMPARE(back->localPort, 54444);
    QCOMPARE(back->realtimeTables, m.realtimeTables);
}

void TestManifest::dotenv_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::newRow("plain") << u"A=1\n"_qs << u"A"_qs << u"1"_qs;
    QTest::newRow("export and spaces") << u"export  B = two \n"_qs << u"B"_qs << u"two"_qs;
    QTest::newRow("inline comment") << u"C=3 # note\n"_qs << u"C"_qs << u"3"_qs;
    QTest::newRow("hash inside value") << u"D=a#b\n"_qs << u"D"_qs << u"a#b"_qs;
    QTest::newRow("single quotes literal") << u"E='x \\n # y'\n"_qs << u"E"_qs << u"x \\n # y"_qs;
    QTest::newRow("double quotes escapes") << u"F=\"line\\nnext \\\"q\\\"\"\n"_qs << u"F"_qs << u"line\nnext \"q\""_qs;
    QTest::newRow("crlf") << u"G=7\r\nH=8\r\n"_qs << u"H"_qs << u"8"_qs;
    QTest::newRow("url with equals") << u"DATABASE_URL=postgres://u:p@h/db?sslmode=require\n"_qs << u"DATABASE_URL"_qs
                                     << u"postgres://u:p@h/db?sslmode=require"_qs;
    QTest::newRow("empty value") << u"I=\n"_qs << u"I"_qs << u""_qs;
}

void TestManifest::dotenv()
{
    QFETCH(QString, text);
    QFETCH(QString, key);
    QFETCH(QString, value);
    auto env = DotEnv::parse(u"# comment\n\n"_qs + text, u".env"_qs);
    QVERIFY2(env.ok(), qPrintable(env.ok() ? QString() : env.error().toString()));
    QVERIFY(env->contains(key));
    QCOMPARE(env->value(key), value);
}

void TestManifest::dotenvErrors_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("line");
    QTest::newRow("no equals") << u"A=1\nJUSTAWORD\n"_qs << 2;
    QTest::newRow("bad name") << u"1A=1\n"_qs << 1;
    QTest::newRow("unterminated double quote") << u"\nA=\"abc\n"_qs << 2;
    QTest::newRow("unterminated single quote") << u"A='abc\n"_qs << 1;
}

void TestManifest::dotenvErrors()
{
    QFETCH(QString, text);
    QFETCH(int, line);
    auto env = DotEnv::parse(text, u".env"_qs);
    QVERIFY(!env.ok());
    QCOMPARE(env.error().file, u".env"_qs);
    QCOMPARE(env.error().line, line);
}

void TestManifest::checksum_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<bool>("same");
    QTest::newRow("identical") << u"SELECT 1;\n"_qs << u"SELECT 1;\n"_qs << true;
    QTest::newRow("crlf vs lf") << u"SELECT 1;\r\nSELECT 2;\r\n"_qs << u"SELECT 1;\nSELECT 2;\n"_qs << true;
    QTest::newRow("cr vs lf") << u"SELECT 1;\rSELECT 2;"_qs << u"SELECT 1;\nSELECT 2;"_qs << true;
    QTest::newRow("bom ignored") << u"\uFEFFSELECT 1;"_qs << u"SELECT 1;"_qs << true;
    QTest::newRow("content change") << u"SELECT 1;"_qs << u"SELECT 2;"_qs << false;
    QTest::newRow("whitespace change counts") << u"SELECT 1;"_qs << u"SELECT  1;"_qs << false;
}

void TestManifest::checksum()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(bool, same);
    QCOMPARE(MigrationFile::checksumOf(a) == MigrationFile::checksumOf(b), same);
    QCOMPARE(MigrationFile::checksumOf(a).size(), 64);
}

void TestManifest::noTransactionMarker_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("noTransaction");
    QTest::newRow("marker") << u"-- pgext:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"_qs << true;
    QTest::newRow("marker crlf and case") << u"-- PGEXT:No-Transaction\r\nSELECT 1;"_qs << true;
    QTest::newRow("marker not first line") << u"SELECT 1;\n-- pgext:no-transaction\n"_qs << false;
    QTest::newRow("no marker") << u"SELECT 1;"_qs << false;
}

void TestManifest::noTransactionMarker()
{
    QFETCH(QString, text);
    QFETCH(bool, noTransaction);
    QCOMPARE(MigrationFile::wantsNoTransaction(text), noTransaction);
}

QTEST_APPLESS_MAIN(TestManifest)
#include "tst_manifest.moc"
