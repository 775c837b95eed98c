#include "pgevent.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Core;

// The pg_events regression suite writes its raw output to extension/pg_events/test/fixtures;
// decoding every document here keeps the plugin's format and this decoder in step.
class TestPgEventDecoder : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fixtures_data();
    void fixtures();
    void rejects_data();
    void rejects();
    void cursor_data();
    void cursor();
    void bigNumbers_data();
    void bigNumbers();
};

void TestPgEventDecoder::fixtures_data()
{
    QTest::addColumn<QString>("file");
    const QDir dir(QStringLiteral(PGEXT_SOURCE_DIR) + u"/extension/pg_events/test/fixtures"_qs);
    const QStringList files = dir.entryList({u"*.jsonl"_qs}, QDir::Files, QDir::Name);
    if (files.isEmpty())
        QTest::newRow("no fixtures") << QString();
    for (const QString &f : files)
        QTest::newRow(qPrintable(f)) << dir.filePath(f);
}

void TestPgEventDecoder::fixtures()
{
    QFETCH(QString, file);
    if (file.isEmpty())
        QSKIP("extension/pg_events/test/fixtures is missing");
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    int documents = 0;
    bool inTransaction = false;
    quint64 xid = 0, lsn = 0;
    quint32 expectedSeq = 0;
    EventCursor previous;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        if (line.isEmpty())
            continue;
        ++documents;
        auto e = PgEventDecoder::decode(line);
        QVERIFY2(e.ok(), qPrintable(QString::fromUtf8(line) + u" -> "_qs + (e.ok() ? QString() : e.error().message)));
        switch (e->op) {
        case PgEvent::Op::Begin:
            QVERIFY(!inTransaction);
            inTransaction = true;
            xid = e->xid;
            lsn = e->lsn;
            expectedSeq = 0;
            QVERIFY(e->endLsn > e->lsn);
            break;
        case PgEvent::Op::Commit:
            QVERIFY(inTransaction);
            QCOMPARE(e->xid, xid);
            QCOMPARE(e->lsn, lsn);
            QCOMPARE(quint32(e->count), expectedSeq);
            inTransaction = false;
            break;
        default:
            QVERIFY(inTransaction);
            QCOMPARE(e->xid, xid);
            QCOMPARE(e->lsn, lsn);
            QCOMPARE(e->seq, expectedSeq++);
            // Cursors strictly increase across the whole stream.
            QVERIFY(previous < e->cursor());
            previous = e->cursor();
            if (e->op == PgEvent::Op::Insert || e->op == PgEvent::Op::Update)
                QVERIFY(!e->newTuple.isEmpty() || !e->unchangedToast.isEmpty());
            // pg_events 1.1: every change names its table's OID.
            if (e->op != PgEvent::Op::Message)
                QVERIFY2(e->relid >= 16384, qPrintable(QString::fromUtf8(line)));
            for (const QString &col : e->unchangedToast)
                QVERIFY2(!e->newTuple.contains(col), "unchanged TOAST values must not be sent");
            break;
        }
    }
    QVERIFY(!inTransaction);
    QVERIFY(documents > 0);
}

void TestPgEventDecoder::rejects_data()
{
    QTest::addColumn<QByteArray>("doc");
    QTest::addColumn<QString>("why");
    const QByteArray ok = R"({"v":1,"op":"insert","schema":"s","table":"t","lsn":"0/10","seq":0,"xid":5,"commit_time":"2026-01-01T00:00:00Z","pk":["id"],"new":{"id":1},"old":null})";
    QTest::newRow("not json") << QByteArray("{\"v\":1,") << u"offset"_qs;
    QTest::newRow("array") << QByteArray("[1]") << u"not a JSON object"_qs;
    QTest::newRow("future version") << QByteArray(ok).replace("\"v\":1", "\"v\":2") << u"format version 2 is not supported"_qs;
    QTest::newRow("unknown op") << QByteArray(ok).replace("insert", "upsert") << u"unknown op \"upsert\""_qs;
    QTest::newRow("bad lsn") << QByteArray(ok).replace("0/10", "zz") << u"\"lsn\""_qs;
    QTest::newRow("negative seq") << QByteArray(ok).replace("\"seq\":0", "\"seq\":-1") << u"\"seq\""_qs;
    QTest::newRow("insert without new") << QByteArray(ok).replace("\"new\":{\"id\":1}", "\"new\":null") << u"without \"new\""_qs;
    QTest::newRow("old is a string") << QByteArray(ok).replace("\"old\":null", "\"old\":\"x\"") << u"\"old\""_qs;
    QTest::newRow("message without channel") << QByteArray(R"({"v":1,"op":"message","lsn":"0/10","seq":0,"xid":5,"commit_time":"x","payload":{}})")
                                             << u"message without channel"_qs;
    QTest::newRow("relid not a number") << QByteArray(ok).replace("\"table\":\"t\"", "\"table\":\"t\",\"relid\":\"5\"") << u"\"relid\""_qs;
    QTest::newRow("relid zero") << QByteArray(ok).replace("\"table\":\"t\"", "\"table\":\"t\",\"relid\":0") << u"\"relid\""_qs;
    QTest::newRow("begin without end_lsn") << QByteArray(R"({"v":1,"op":"begin","lsn":"0/10","xid":5,"commit_time":"x"})")
                                           << u"end_lsn"_qs;
}

void TestPgEventDecoder::rejects()
{
    QFETCH(QByteArray, doc);
    QFETCH(QString, why);
    auto e = PgEventDecoder::decode(doc);
    QVERIFY(!e.ok());
    QVERIFY2(e.error().message.contains(why), qPrintable(e.error().message));
}

void TestPgEventDecoder::cursor_data()
{
    QTest::addColumn<QString>("lsn");
    QTest::addColumn<quint64>("value");
    QTest::newRow("small") << u"0/16B2F30"_qs << quint64(0x16B2F30);
    QTest::newRow("high part") << u"16/B374D848"_qs << ((quint64(0x16) << 32) | 0xB374D848u);
    QTest::newRow("max") << u"FFFFFFFF/FFFFFFFF"_qs << ~quint64(0);
}

void TestPgEventDecoder::cursor()
{
    QFETCH(QString, lsn);
    QFETCH(quint64, value);
    QCOMPARE(Lsn::parse(lsn).value(), value);
    QCOMPARE(Lsn::format(value), lsn);
    const EventCursor a{value, 7};
    const auto back = EventCursor::parse(a.toString());
    QVERIFY(back);
    QCOMPARE(*back, a);
    // String order is cursor order.
    const EventCursor b{value, 8};
    QVERIFY(a < b);
    QVERIFY(a.toString() < b.toString());
    QVERIFY(!EventCursor::parse(u"nope"_qs));
    QVERIFY(!EventCursor::parse(a.toString().toUpper().replace(u'.', u'X')));
    QVERIFY(!Lsn::parse(u"1/"_qs));
    QVERIFY(!Lsn::parse(u"/1"_qs));
}

// Defect 8 of the realtime issue: a jsonb value Qt cannot hold (1e400) made the whole
// document undecodable, and the server dropped it. Such numbers are kept as their text.
void TestPgEventDecoder::bigNumbers_data()
{
    QTest::addColumn<QByteArray>("value");   // JSON text of a jsonb column's value
    QTest::addColumn<QJsonValue>("expected");
    QTest::newRow("beyond double") << QByteArray("{\"n\":1e400}") << QJsonValue(QJsonObject{{u"n"_qs, u"1e400"_qs}});
    QTest::newRow("negative beyond double") << QByteArray("[-2.5E+999]") << QJsonValue(QJsonArray{u"-2.5E+999"_qs});
    QTest::newRow("underflow") << QByteArray("{\"n\":1e-400}") << QJsonValue(QJsonObject{{u"n"_qs, u"1e-400"_qs}});
    QTest::newRow("zero with exponent stays") << QByteArray("{\"n\":0.0e-400}") << QJsonValue(QJsonObject{{u"n"_qs, 0.0}});
    QTest::newRow("beyond 64 bits") << QByteArray("{\"n\":123456789012345678901234567890}")
                                    << QJsonValue(QJsonObject{{u"n"_qs, u"123456789012345678901234567890"_qs}});
    QTest::newRow("int64 max stays exact") << QByteArray("{\"n\":9223372036854775807}")
                                           << QJsonValue(QJsonObject{{u"n"_qs, qint64(9223372036854775807LL)}});
    QTest::newRow("int64 max + 1") << QByteArray("{\"n\":9223372036854775808}")
                                   << QJsonValue(QJsonObject{{u"n"_qs, u"9223372036854775808"_qs}});
    QTest::newRow("digits in a string are left alone") << QByteArray("{\"s\":\"1e400 123456789012345678901\\\" 1e999\"}")
                                                       << QJsonValue(QJsonObject{{u"s"_qs, u"1e400 123456789012345678901\" 1e999"_qs}});
    QTest::newRow("ordinary numbers") << QByteArray("[1,-2.5,3e10,0]") << QJsonValue(QJsonArray{1, -2.5, 3e10, 0});
}

void TestPgEventDecoder::bigNumbers()
{
    QFETCH(QByteArray, value);
    QFETCH(QJsonValue, expected);
    const QByteArray change = R"({"v":1,"op":"insert","schema":"s","table":"t","relid":16400,"lsn":"0/10","seq":0,"xid":5,)"
                              R"("commit_time":"2026-01-01T00:00:00Z","pk":["id"],"new":{"id":1,"doc":)" + value + R"(},"old":null})";
    auto e = PgEventDecoder::decode(change);
    QVERIFY2(e.ok(), qPrintable(e.ok() ? QString() : e.error().message));
    QCOMPARE(e->newTuple.value(u"doc"_qs), expected);
    QCOMPARE(e->relid, 16400u);
    // The same in a message payload.
    const QByteArray message = R"({"v":1,"op":"message","lsn":"0/10","seq":1,"xid":5,"commit_time":"2026-01-01T00:00:00Z",)"
                               R"("channel":"c","payload":)" + value + "}";
    auto m = PgEventDecoder::decode(message);
    QVERIFY(m.ok());
    QCOMPARE(m->payload, expected);
}

QTEST_APPLESS_MAIN(TestPgEventDecoder)
#include "tst_pgeventdecoder.moc"
