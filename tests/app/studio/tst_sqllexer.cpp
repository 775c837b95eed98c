// The PostgreSQL lexer: what each construct is coloured as, including dollar-quoted
// function bodies (code) versus dollar-quoted strings, and state carried across lines.
#include "sqleditor.h"
#include "sqllexer.h"

#include <QTest>

using Studio::SqlLexer;

class TestSqlLexer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void styles_data();
    void styles();
    void editsRestyleFollowingLines();
    void foldsFunctionBodies();
};

// Style at the first occurrence of `needle` (+ `skip` bytes) after the editor styled `text`.
static int styleAt(Studio::SqlEditor &editor, const QString &needle, int occurrence = 1)
{
    const QByteArray text = editor.text().toUtf8();
    int pos = -1;
    for (int i = 0; i < occurrence; ++i)
        pos = int(text.indexOf(needle.toUtf8(), pos + 1));
    if (pos < 0)
        return -1;
    return int(editor.SendScintilla(QsciScintillaBase::SCI_GETSTYLEAT, long(pos)));
}

static void colourise(Studio::SqlEditor &editor)
{
    editor.SendScintilla(QsciScintillaBase::SCI_COLOURISE, 0L, -1L);
}

void TestSqlLexer::styles_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QString>("needle");
    QTest::addColumn<int>("occurrence");
    QTest::addColumn<int>("style");

    const QString fn = u"CREATE OR REPLACE FUNCTION f(a int)\nRETURNS int\nLANGUAGE plpgsql AS $body$\n"
                       "DECLARE\n  n int := 'txt';\nBEGIN\n  -- note\n  RAISE NOTICE 'x';\n  RETURN $1;\nEND\n$body$;\n"
                       "SELECT 1;\n"_qs;
    QTest::newRow("keyword") << fn << u"CREATE"_qs << 1 << int(SqlLexer::Keyword);
    QTest::newRow("type") << fn << u"int)"_qs << 1 << int(SqlLexer::Type);
    QTest::newRow("body opening delimiter") << fn << u"$body$"_qs << 1 << int(SqlLexer::DollarQuote);
    QTest::newRow("plpgsql keyword in body") << fn << u"DECLARE"_qs << 1 << int(SqlLexer::Keyword + SqlLexer::BodyOffset);
    QTest::newRow("string in body") << fn << u"'txt'"_qs << 1 << int(SqlLexer::String + SqlLexer::BodyOffset);
    QTest::newRow("comment in body") << fn << u"-- note"_qs << 1 << int(SqlLexer::Comment + SqlLexer::BodyOffset);
    QTest::newRow("RAISE in body") << fn << u"RAISE"_qs << 1 << int(SqlLexer::Keyword + SqlLexer::BodyOffset);
    QTest::newRow("parameter in body") << fn << u"$1"_qs << 1 << int(SqlLexer::Parameter + SqlLexer::BodyOffset);
    QTest::newRow("body closing delimiter") << fn << u"$body$"_qs << 2 << int(SqlLexer::DollarQuote);
    QTest::newRow("after the body") << fn << u"SELECT"_qs << 1 << int(SqlLexer::Keyword);

    const QString str = u"SELECT $$it's a -- string$$ AS s, $q$ $$ inner $q$, 'x' AS t;\nSELECT 2;"_qs;
    QTest::newRow("dollar string, not a body") << str << u"it's"_qs << 1 << int(SqlLexer::String);
    QTest::newRow("dollar string hides comment") << str << u"-- string"_qs << 1 << int(SqlLexer::String);
    QTest::newRow("other tag ignores $$") << str << u"inner"_qs << 1 << int(SqlLexer::String);
    QTest::newRow("code after strings") << str << u"AS t"_qs << 1 << int(SqlLexer::Keyword);

    const QString comments = u"/* outer /* nested */ still comment */ SELECT \"Mixed Case\", E'it\\'s', 1.5e3;"_qs;
    QTest::newRow("nested block comment") << comments << u"still"_qs << 1 << int(SqlLexer::Comment);
    QTest::newRow("code after comment") << comments << u"SELECT"_qs << 1 << int(SqlLexer::Keyword);
    QTest::newRow("quoted identifier") << comments << u"Mixed"_qs << 1 << int(SqlLexer::QuotedIdentifier);
    QTest::newRow("E string with backslash quote") << comments << u"s'"_qs << 1 << int(SqlLexer::String);
    QTest::newRow("number with exponent") << comments << u"e3"_qs << 1 << int(SqlLexer::Number);

    const QString doBlock = u"DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;"_qs;
    QTest::newRow("DO body") << doBlock << u"PERFORM"_qs << 1 << int(SqlLexer::Keyword + SqlLexer::BodyOffset);
}

void TestSqlLexer::styles()
{
    QFETCH(QString, sql);
    QFETCH(QString, needle);
    QFETCH(int, occurrence);
    QFETCH(int, style);
    Studio::SqlEditor editor;
    editor.setText(sql);
    colourise(editor);
    QCOMPARE(styleAt(editor, needle, occurrence), style);
}

void TestSqlLexer::editsRestyleFollowingLines()
{
    Studio::SqlEditor editor;
    editor.setText(u"SELECT 1;\nSELECT 2;\nSELECT 3;\n"_qs);
    colourise(editor);
    QCOMPARE(styleAt(editor, u"SELECT"_qs, 3), int(SqlLexer::Keyword));
    // Opening a block comment on line 1 turns the following lines into comment...
    editor.insertAt(u"/* "_qs, 0, 9);
    colourise(editor);
    QCOMPARE(styleAt(editor, u"SELECT"_qs, 3), int(SqlLexer::Comment));
    // ...and removing it turns them back.
    editor.setSelection(0, 9, 0, 12);
    editor.removeSelectedText();
    colourise(editor);
    QCOMPARE(styleAt(editor, u"SELECT"_qs, 3), int(SqlLexer::Keyword));
}

void TestSqlLexer::foldsFunctionBodies()
{
    Studio::SqlEditor editor;
    editor.setText(u"CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND\n$$ LANGUAGE plpgsql;\nSELECT 1;\n"_qs);
    colourise(editor);
    const long level0 = editor.SendScintilla(QsciScintillaBase::SCI_GETFOLDLEVEL, 0L);
    QVERIFY(level0 & QsciScintillaBase::SC_FOLDLEVELHEADERFLAG);
    const long level2 = editor.SendScintilla(QsciScintillaBase::SCI_GETFOLDLEVEL, 2L);
    QCOMPARE(level2 & QsciScintillaBase::SC_FOLDLEVELNUMBERMASK, long(QsciScintillaBase::SC_FOLDLEVELBASE + 1));
    const long level5 = editor.SendScintilla(QsciScintillaBase::SCI_GETFOLDLEVEL, 5L);
    QCOMPARE(level5 & QsciScintillaBase::SC_FOLDLEVELNUMBERMASK, long(QsciScintillaBase::SC_FOLDLEVELBASE));
}

QTEST_MAIN(TestSqlLexer)
#include "tst_sqllexer.moc"
