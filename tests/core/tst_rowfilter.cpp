#include "rowfilter.h"

#include <QJsonDocument>
#include <QTest>

using namespace Core;

class TestRowFilter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void matches_data();
    void matches();
    void invalid_data();
    void invalid();
    void categories_data();
    void categories();
    void absentColumns();
};

static const QHash<QString, TypeCategory> Columns = {
    {u"id"_qs, TypeCategory::Integer}, {u"title"_qs, TypeCategory::Text}, {u"done"_qs, TypeCategory::Boolean},
    {u"price"_qs, TypeCategory::Numeric}, {u"score"_qs, TypeCategory::Float}, {u"at"_qs, TypeCategory::TimestampTz},
    {u"day"_qs, TypeCategory::Date}, {u"owner"_qs, TypeCategory::Uuid}, {u"note"_qs, TypeCategory::Text},
    {u"local"_qs, TypeCategory::Timestamp}, {u"body"_qs, TypeCategory::Text}, {u"big"_qs, TypeCategory::Integer},
};

// One row as pg_events writes it: integers as numbers, numeric as a string, timestamps in
// PostgreSQL's output format.
static const QByteArray Row = R"({"id":42,"title":"Buy milk, eggs","done":false,"price":"10.50","score":2.5,
  "at":"2026-03-01 10:00:00.5+01","day":"2026-03-01","owner":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11","note":null,
  "local":"2026-03-01 10:00:00"})";

void TestRowFilter::matches_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<bool>("match");
    QTest::newRow("empty filter") << QString() << true;
    QTest::newRow("eq int") << u"id=eq.42"_qs << true;
    QTest::newRow("eq int other") << u"id=eq.41"_qs << false;
    QTest::newRow("neq") << u"id=neq.41"_qs << true;
    QTest::newRow("lt numeric not lexical") << u"id=lt.100"_qs << true;
    QTest::newRow("gt") << u"id=gt.42"_qs << false;
    QTest::newRow("gte") << u"id=gte.42"_qs << true;
    QTest::newRow("lte") << u"id=lte.41"_qs << false;
    QTest::newRow("numeric as number") << u"price=eq.10.5"_qs << true;
    QTest::newRow("numeric gt") << u"price=gt.9.99"_qs << true;
    QTest::newRow("float") << u"score=lt.3"_qs << true;
    QTest::newRow("in ints") << u"id=in.(1,42,7)"_qs << true;
    QTest::newRow("in miss") << u"id=in.(1,2)"_qs << false;
    QTest::newRow("in quoted with comma") << u"title=in.(\"Buy milk, eggs\",x)"_qs << true;
    QTest::newRow("is false") << u"done=is.false"_qs << true;
    QTest::newRow("is true") << u"done=is.true"_qs << false;
    QTest::newRow("eq bool") << u"done=eq.false"_qs << true;
    QTest::newRow("is null") << u"note=is.null"_qs << true;
    QTest::newRow("not is null") << u"note=not.is.null"_qs << false;
    QTest::newRow("is null on value") << u"title=is.null"_qs << false;
    QTest::newRow("eq null is unknown") << u"note=eq.x"_qs << false;
    QTest::newRow("neq null is unknown too") << u"note=neq.x"_qs << false;
    QTest::newRow("like star") << u"title=like.Buy*"_qs << true;
    QTest::newRow("like percent") << u"title=like.%milk%"_qs << true;
    QTest::newRow("like is case-sensitive") << u"title=like.buy*"_qs << false;
    QTest::newRow("ilike") << u"title=ilike.buy*EGGS"_qs << true;
    QTest::newRow("like underscore") << u"title=like.Bu_ milk*"_qs << true;
    QTest::newRow("like regex chars are literal") << u"title=like.Buy milk. eggs"_qs << false;
    QTest::newRow("timestamptz same instant other zone") << u"at=eq.2026-03-01T09:00:00.5Z"_qs << true;
    QTest::newRow("timestamptz gt") << u"at=gt.2026-03-01T08:59:59Z"_qs << true;
    QTest::newRow("timestamptz lt") << u"at=lt.2026-03-01 09:00:00+00"_qs << false;
    QTest::newRow("timestamp without zone") << u"local=gte.2026-03-01T10:00:00"_qs << true;
    QTest::newRow("date") << u"day=lt.2026-03-02"_qs << true;
    QTest::newRow("uuid case-insensitive") << u"owner=eq.a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"_qs << true;
    QTest::newRow("and: both hold") << u"id=eq.42&done=is.false"_qs << true;
    QTest::newRow("and: one fails") << u"id=eq.42&done=is.true"_qs << false;
    QTest::newRow("not eq") << u"id=not.eq.42"_qs << false;
    QTest::newRow("not in") << u"id=not.in.(1,2)"_qs << true;
    QTest::newRow("null not in is unknown") << u"note=not.in.(a,b)"_qs << false;
    QTest::newRow("null not like is unknown") << u"note=not.like.x*"_qs << false;
    QTest::newRow("null in is unknown") << u"note=in.(a,b)"_qs << false;
    // Columns the row does not carry (unchanged TOAST): never a match by accident.
    QTest::newRow("absent is null") << u"body=is.null"_qs << false;
    QTest::newRow("absent not eq") << u"body=not.eq.x"_qs << false;
}

void TestRowFilter::matches()
{
    QFETCH(QString, filter);
    QFETCH(bool, match);
    auto f = RowFilter::parse(filter, Columns);
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    QCOMPARE(f->matches(QJsonDocument::fromJson(Row).object()), match);
}

void TestRowFilter::invalid_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QString>("message");
    QTest::newRow("no equals") << u"id"_qs << u"is not column=op.value"_qs;
    QTest::newRow("unknown column") << u"nope=eq.1"_qs << u"unknown column \"nope\""_qs;
    QTest::newRow("unknown operator") << u"id=equals.1"_qs << u"unknown operator \"equals\""_qs;
    QTest::newRow("missing value") << u"id=eq"_qs << u"needs a value"_qs;
    QTest::newRow("bad is") << u"done=is.maybe"_qs << u"is takes null, true, false"_qs;
    QTest::newRow("in without parens") << u"id=in.1,2"_qs << u"parenthesised list"_qs;
    QTest::newRow("in unterminated quote") << u"title=in.(\"a,b)"_qs << u"unterminated quote"_qs;
    QTest::newRow("int column, text value") << u"id=eq.abc"_qs << u"not a valid value for column \"id\""_qs;
    QTest::newRow("bad timestamp") << u"at=gt.yesterday"_qs << u"not a valid value"_qs;
    QTest::newRow("bad bool") << u"done=eq.yes"_qs << u"not a valid value"_qs;
    QTest::newRow("like on int") << u"id=like.4*"_qs << u"works on text columns"_qs;
    QTest::newRow("empty part") << u"id=eq.1&"_qs << u"is not column=op.value"_qs;
}

void TestRowFilter::invalid()
{
    QFETCH(QString, filter);
    QFETCH(QString, message);
    auto f = RowFilter::parse(filter, Columns);
    QVERIFY(!f.ok());
    QCOMPARE(f.error().code, u"invalid_filter"_qs);
    QVERIFY2(f.error().message.contains(message), qPrintable(f.error().message));
}

void TestRowFilter::categories_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("category");
    QTest::newRow("bigint") << u"bigint"_qs << int(TypeCategory::Integer);
    QTest::newRow("numeric(10,2)") << u"numeric(10,2)"_qs << int(TypeCategory::Numeric);
    QTest::newRow("varchar(20)") << u"character varying(20)"_qs << int(TypeCategory::Text);
    QTest::newRow("timestamptz(3)") << u"timestamp(3) with time zone"_qs << int(TypeCategory::TimestampTz);
    QTest::newRow("jsonb") << u"jsonb"_qs << int(TypeCategory::Json);
    QTest::newRow("int[]") << u"integer[]"_qs << int(TypeCategory::Other);
}

void TestRowFilter::categories()
{
    QFETCH(QString, type);
    QFETCH(int, category);
    QCOMPARE(int(RowFilter::categoryForType(type)), category);
}

void TestRowFilter::absentColumns()
{
    // A delete carries only its replica identity: Ignore judges the columns it has and
    // skips the others; Fail (the default, for unchanged TOAST values) never matches.
    auto f = RowFilter::parse(u"id=eq.42&title=eq.x"_qs, Columns);
    QVERIFY(f.ok());
    const QJsonObject key{{u"id"_qs, 42}};
    QVERIFY(f->matches(key, RowFilter::Absent::Ignore));
    QVERIFY(!f->matches(key, RowFilter::Absent::Fail));
    QVERIFY(!f->matches(QJsonObject{{u"id"_qs, 41}}, RowFilter::Absent::Ignore));
    QCOMPARE(f->columns(), (QStringList{u"id"_qs, u"title"_qs}));
    // An integer beyond 64 bits arrives as its text (the decoder keeps it exactly).
    auto big = RowFilter::parse(u"big=gt.5"_qs, Columns);
    QVERIFY(big->matches(QJsonObject{{u"big"_qs, u"123456789012345678901234567890"_qs}}));
    QVERIFY(!big->matches(QJsonObject{{u"big"_qs, u"-123456789012345678901234567890"_qs}}));
}

QTEST_APPLESS_MAIN(TestRowFilter)
#include "tst_rowfilter.moc"
