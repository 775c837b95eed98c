#include "clientmessage.h"
#include "session.h"

#include <QTest>

using namespace Realtime;

// The client's messages as text: shape, limits and the error each bad one gets.
class TestClientMessage : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void refused_data();
    void refused();
    void accepted();
    void cursorOrder();
    void expirySteps();
};

void TestClientMessage::refused_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("says");
    QTest::newRow("garbage") << QByteArray("{not json") << u"invalid_message"_qs << QString() << u"expected a JSON object"_qs;
    QTest::newRow("array") << QByteArray("[1,2]") << u"invalid_message"_qs << QString() << u"another JSON value"_qs;
    QTest::newRow("string") << QByteArray("\"hello\"") << u"invalid_message"_qs << QString() << u"expected a JSON object"_qs;
    QTest::newRow("no type") << QByteArray("{}") << u"invalid_message"_qs << QString() << u"missing \"type\""_qs;
    QTest::newRow("unknown type") << QByteArray(R"({"type":"explode"})") << u"invalid_message"_qs << QString() << u"unknown message type"_qs;
    QTest::newRow("ref not string") << QByteArray(R"({"type":"ping","ref":5})") << u"invalid_message"_qs << QString() << u"\"ref\""_qs;
    QTest::newRow("auth without token") << QByteArray(R"({"type":"auth"})") << u"invalid_message"_qs << QString() << u"token"_qs;
    QTest::newRow("auth token not string") << QByteArray(R"({"type":"auth","token":1})") << u"invalid_message"_qs << QString() << u"token"_qs;
    QTest::newRow("subscribe without id") << QByteArray(R"({"type":"subscribe","table":"public.items"})") << u"invalid_message"_qs << QString() << u"\"id\""_qs;
    QTest::newRow("id not string") << QByteArray(R"({"type":"subscribe","id":3,"table":"public.items"})") << u"invalid_message"_qs << QString() << u"\"id\""_qs;
    QTest::newRow("id too long") << QByteArray(R"({"type":"subscribe","id":")" + QByteArray(129, 'x') + R"(","table":"public.items"})")
                                 << u"invalid_message"_qs << QString() << u"1 to 128"_qs;
    QTest::newRow("table and channel") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","channel":"c"})") << u"invalid_message"_qs << u"x"_qs << u"exactly one"_qs;
    QTest::newRow("neither") << QByteArray(R"({"type":"subscribe","id":"x"})") << u"invalid_message"_qs << u"x"_qs << u"exactly one"_qs;
    QTest::newRow("unqualified table") << QByteArray(R"({"type":"subscribe","id":"x","table":"items"})") << u"invalid_message"_qs << u"x"_qs << u"schema.table"_qs;
    QTest::newRow("sql in table") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items;drop"})") << u"invalid_message"_qs << u"x"_qs << u"schema.table"_qs;
    QTest::newRow("quoted table") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.\"items\""})") << u"invalid_message"_qs << u"x"_qs << u"schema.table"_qs;
    QTest::newRow("bad events") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","events":["upsert"]})") << u"invalid_message"_qs << u"x"_qs << u"insert, update and delete"_qs;
    QTest::newRow("empty events") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","events":[]})") << u"invalid_message"_qs << u"x"_qs << u"non-empty"_qs;
    QTest::newRow("events not array") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","events":"insert"})") << u"invalid_message"_qs << u"x"_qs << u"non-empty array"_qs;
    QTest::newRow("bad cursor") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","since":"yesterday"})") << u"invalid_message"_qs << u"x"_qs << u"cursor"_qs;
    QTest::newRow("cursor upper case") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","since":"000000000000000A.00000000"})") << u"invalid_message"_qs << u"x"_qs << u"cursor"_qs;
    QTest::newRow("filter not string") << QByteArray(R"({"type":"subscribe","id":"x","table":"public.items","filter":5})") << u"invalid_message"_qs << u"x"_qs << u"strings"_qs;
    QTest::newRow("bad channel") << QByteArray(R"({"type":"subscribe","id":"x","channel":"Bad Channel!"})") << u"invalid_message"_qs << u"x"_qs << u"channel name"_qs;
    QTest::newRow("filter on a channel") << QByteArray(R"({"type":"subscribe","id":"x","channel":"c","filter":"a=eq.1"})") << u"invalid_message"_qs << u"x"_qs << u"table subscriptions only"_qs;
    QTest::newRow("unsubscribe without id") << QByteArray(R"({"type":"unsubscribe"})") << u"invalid_message"_qs << QString() << u"\"id\""_qs;
}

void TestClientMessage::refused()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, code);
    QFETCH(QString, id);
    QFETCH(QString, says);
    const auto parsed = ClientMessage::parse(text);
    QVERIFY(!parsed.message);
    QCOMPARE(parsed.problem.code, code);
    QCOMPARE(parsed.problem.id, id);
    QVERIFY2(parsed.problem.message.contains(says), qPrintable(parsed.problem.message));
}

void TestClientMessage::accepted()
{
    auto p = ClientMessage::parse(R"({"type":"subscribe","id":"a","ref":"r9","table":"public.Tasks","filter":"done=is.false",
        "select":"id, title","events":["insert","delete"],"since":"0000000001000000.00000002"})");
    QVERIFY(p.message);
    const ClientMessage &m = *p.message;
    QCOMPARE(int(m.type), int(ClientMessage::Type::Subscribe));
    QCOMPARE(m.ref, u"r9"_qs);
    QCOMPARE(m.schema, u"public"_qs);
    QCOMPARE(m.table, u"Tasks"_qs); // exact: no case folding
    QCOMPARE(m.select, (QStringList{u"id"_qs, u"title"_qs}));
    QCOMPARE(m.events, unsigned(WantInsert | WantDelete));
    QCOMPARE(m.since->lsn, quint64(0x1000000));
    QCOMPARE(m.since->seq, 2u);
    auto c = ClientMessage::parse(R"({"type":"subscribe","id":"c","channel":"room:5"})");
    QVERIFY(c.message && c.message->isChannel);
    QCOMPARE(c.message->channel, u"room:5"_qs);
    QCOMPARE(int(ClientMessage::parse(R"({"type":"ping"})").message->type), int(ClientMessage::Type::Ping));
    // The ref is echoed even on errors, cut to 256 characters.
    auto e = ClientMessage::parse(R"({"type":"nope","ref":")" + QByteArray(300, 'r') + "\"}");
    QCOMPARE(e.problem.ref.size(), 256);
}

void TestClientMessage::cursorOrder()
{
    // Cursors are totally ordered by (commit LSN, sequence), and their text sorts the same.
    const Core::EventCursor a{0x10, 5}, b{0x10, 6}, c{0x11, 0}, d{quint64(1) << 40, 0};
    QVERIFY(a < b && b < c && c < d);
    QVERIFY(a.toString() < b.toString() && b.toString() < c.toString() && c.toString() < d.toString());
    for (const auto &x : {a, b, c, d})
        QCOMPARE(*Core::EventCursor::parse(x.toString()), x);
}

void TestClientMessage::expirySteps()
{
    // Defect 15: the expiry timer was capped at ~24.8 days (int milliseconds), so a token
    // valid for 30 days ended its subscriptions early. The timer now steps a day at a time.
    const qint64 now = 1800000000;
    QCOMPARE(Session::expiryStepMs(now + 30 * 86400, now, 30), qint64(86400) * 1000);
    QCOMPARE(Session::expiryStepMs(now + 10, now, 30), qint64(40) * 1000);
    QCOMPARE(Session::expiryStepMs(now - 31, now, 30), 0);
    QVERIFY(Session::expiryStepMs(now + 400LL * 86400, now, 30) < std::numeric_limits<int>::max());
}

QTEST_APPLESS_MAIN(TestClientMessage)
#include "tst_clientmessage.moc"
