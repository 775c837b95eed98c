#include "sqlsplitter.h"

#include <QTest>

using Core::SqlSplitter;

class TestSqlSplitter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void split_data();
    void split();
    void errors_data();
    void errors();
    void positionMapping_data();
    void positionMapping();
};

void TestSqlSplitter::split_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QStringList>("statements");
    QTest::addColumn<QList<int>>("lines");

    QTest::newRow("two statements") << u"SELECT 1;\nSELECT 2;"_qs << QStringList{u"SELECT 1"_qs, u"SELECT 2"_qs} << QList<int>{1, 2};
    QTest::newRow("no trailing semicolon") << u"SELECT 1;\n\n  SELECT 2\n"_qs
                                           << QStringList{u"SELECT 1"_qs, u"SELECT 2\n"_qs} << QList<int>{1, 3};
    QTest::newRow("semicolon in string") << u"SELECT 'a;b';SELECT 2"_qs << QStringList{u"SELECT 'a;b'"_qs, u"SELECT 2"_qs} << QList<int>{1, 1};
    QTest::newRow("doubled quote") << u"SELECT 'it''s;';"_qs << QStringList{u"SELECT 'it''s;'"_qs} << QList<int>{1};
    QTest::newRow("E string with escaped quote") << u"SELECT E'a\\';b';SELECT 3;"_qs
                                                 << QStringList{u"SELECT E'a\\';b'"_qs, u"SELECT 3"_qs} << QList<int>{1, 1};
    QTest::newRow("quoted identifier") << u"SELECT 1 AS \"x;y\";"_qs << QStringList{u"SELECT 1 AS \"x;y\""_qs} << QList<int>{1};
    QTest::newRow("dollar quote") << u"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;"_qs
                                  << QStringList{u"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"_qs, u"SELECT 2"_qs}
                                  << QList<int>{1, 2};
    QTest::newRow("tagged dollar quote holding $$") << u"DO $body$ BEGIN PERFORM $$;$$; END $body$;"_qs
                                                    << QStringList{u"DO $body$ BEGIN PERFORM $$;$$; END $body$"_qs} << QList<int>{1};
    QTest::newRow("positional parameter is not a quote") << u"PREPARE p AS SELECT $1;EXECUTE p(1);"_qs
                                                         << QStringList{u"PREPARE p AS SELECT $1"_qs, u"EXECUTE p(1)"_qs} << QList<int>{1, 1};
    QTest::newRow("line comment") << u"-- a; b\nSELECT 1; -- c;\n"_qs << QStringList{u"SELECT 1"_qs} << QList<int>{2};
    QTest::newRow("nested block comment") << u"/* a /* ; */ ; */ SELECT 1;"_qs << QStringList{u"SELECT 1"_qs} << QList<int>{1};
    QTest::newRow("comment-only file") << u"-- nothing\n/* here */\n"_qs << QStringList{} << QList<int>{};
    QTest::newRow("empty statements skipped") << u";;SELECT 1;;"_qs << QStringList{u"SELECT 1"_qs} << QList<int>{1};
    QTest::newRow("parentheses") << u"CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);SELECT 1;"_qs
                                 << QStringList{u"CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b)"_qs, u"SELECT 1"_qs}
                                 << QList<int>{1, 1};
    QTest::newRow("begin atomic with case") << u"CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END;\nSELECT 3;"_qs
                                            << QStringList{u"CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END"_qs, u"SELECT 3"_qs}
                                            << QList<int>{1, 2};
    QTest::newRow("identifier containing e before quote") << u"SELECT name'x';"_qs << QStringList{u"SELECT name'x'"_qs} << QList<int>{1};
}

void TestSqlSplitter::split()
{
    QFETCH(QString, script);
    QFETCH(QStringList, statements);
    QFETCH(QList<int>, lines);
    auto result = SqlSplitter::split(script);
    QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().toString()));
    QStringList texts;
    QList<int> got;
    for (const auto &s : *result) {
        texts << s.text;
        got << s.line;
        QCOMPARE(script.mid(s.offset, s.text.size()), s.text);
    }
    QCOMPARE(texts, statements);
    QCOMPARE(got, lines);
}

void TestSqlSplitter::errors_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::newRow("unterminated string") << u"SELECT 1;\nSELECT 'abc"_qs << u"unterminated quoted string"_qs << 2 << 8;
    QTest::newRow("unterminated dollar quote") << u"DO $x$ BEGIN END $y$;"_qs << u"unterminated dollar-quoted string"_qs << 1 << 4;
    QTest::newRow("unterminated comment") << u"SELECT 1; /* open"_qs << u"unterminated /* comment"_qs << 1 << 11;
    QTest::newRow("unterminated identifier") << u"SELECT \"abc"_qs << u"unterminated quoted identifier"_qs << 1 << 8;
    QTest::newRow("psql meta-command") << u"SELECT 1;\n\\i other.sql\n"_qs << u"psql meta-commands"_qs << 2 << 1;
}

void TestSqlSplitter::errors()
{
    QFETCH(QString, script);
    QFETCH(QString, message);
    QFETCH(int, line);
    QFETCH(int, column);
    auto result = SqlSplitter::split(script);
    QVERIFY(!result.ok());
    QVERIFY2(result.error().message.contains(message), qPrintable(result.error().message));
    QCOMPARE(result.error().line, line);
    QCOMPARE(result.error().column, column);
}

void TestSqlSplitter::positionMapping_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<int>("statement");
    QTest::addColumn<int>("position");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::newRow("first char of second statement") << u"SELECT 1;\n  SELEC 2;"_qs << 1 << 1 << 2 << 3;
    QTest::newRow("inside a multi-line statement") << u"SELECT\n  a,\n  nope\nFROM t;"_qs << 0 << 15 << 3 << 3;
    QTest::newRow("non-BMP characters count once") << u"SELECT '\U0001F600', nope;"_qs << 0 << 13 << 1 << 13;
}

void TestSqlSplitter::positionMapping()
{
    QFETCH(QString, script);
    QFETCH(int, statement);
    QFETCH(int, position);
    QFETCH(int, line);
    QFETCH(int, column);
    auto result = SqlSplitter::split(script);
    QVERIFY(result.ok());
    const auto &st = (*result)[size_t(statement)];
    const auto [l, c] = SqlSplitter::lineColumn(script, st.offset, st.text, position);
    QCOMPARE(l, line);
    QCOMPARE(c, column);
}

QTEST_APPLESS_MAIN(TestSqlSplitter)
#include "tst_sqlsplitter.moc"
