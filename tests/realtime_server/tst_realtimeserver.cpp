#include "realtimefixture.h"
#include "scaffold.h"

#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpSocket>
#include <QTest>

#include <atomic>
#include <thread>

using namespace Core;
using namespace Realtime;
using namespace RealtimeFixture;

// The protocol as a client sees it: real PostgreSQL with pg_events, the real server
// in-process (connected as an authenticator, like PostgREST), real WebSocket clients.
// Absence is asserted up to a marker event committed after the changes, never after a
// fixed sleep.
class TestRealtimeServer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void welcomeAndPing();
    void changesArriveWithCursorsXidAndTime();
    void customEvents();
    void filters_data();
    void filters();
    void selectAndEvents();
    void unsubscribeStopsDelivery();
    void subscribedMeansLive();
    void rowLevelSecurity();
    void rlsUnderConcurrentWriters();
    void badInput_data();
    void badInput();
    void oversizedMessage();
    void authErrors();
    void tokenExpiry();
    void forbiddenAndUnknownTables();
    void healthMetricsAndOrigin();
    void slowConsumer();
    void channelAuthorization();
    void connectionCaps();
    void gracefulShutdown();

private:
    QString exec(const QString &sql) { return RealtimeFixture::exec(m_db, sql); }
    std::unique_ptr<WsClient> client(const QString &token = {}) { return RealtimeFixture::client(*m_server, token); }

    QString m_db;
    std::unique_ptr<Server> m_server;
};

void TestRealtimeServer::initTestCase()
{
    m_db = createDatabase(u"rt"_qs);
    exec(uR"(
        CREATE TABLE public.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text, n int,
                                   price numeric, done boolean NOT NULL DEFAULT false,
                                   at timestamptz NOT NULL DEFAULT now(), owner uuid);
        GRANT SELECT ON public.items TO rt_user;
        CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id text NOT NULL, body text);
        ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own ON public.notes FOR SELECT TO rt_user
            USING (user_id = (current_setting('request.jwt.claims', true)::json ->> 'sub'));
        GRANT SELECT ON public.notes TO rt_user;
        CREATE TABLE public.secret (id int PRIMARY KEY);
        CREATE TABLE public.untracked (id int PRIMARY KEY);
        GRANT SELECT ON public.untracked TO rt_user;
        SELECT pg_events.track('public.items'), pg_events.track('public.notes', true), pg_events.track('public.secret');
    )"_qs);
    m_server = startServer(baseConfig(m_db, u"rt_main"_qs));
}

void TestRealtimeServer::cleanupTestCase()
{
    m_server.reset();
    exec(u"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active"_qs);
}

void TestRealtimeServer::welcomeAndPing()
{
    WsClient c;
    QVERIFY(c.open(url(*m_server)));
    const QJsonObject welcome = c.messages().first();
    QCOMPARE(welcome.value(u"type"_qs).toString(), u"welcome"_qs);
    QCOMPARE(welcome.value(u"protocol"_qs).toInt(), 1);
    QVERIFY(welcome.value(u"server"_qs).toString().startsWith(u"pg_events_ws/"_qs));
    QVERIFY(EventCursor::parse(welcome.value(u"cursor"_qs).toString()).has_value());
    auto pong = c.request({{u"type"_qs, u"ping"_qs}}, u"pong"_qs);
    QVERIFY(pong);
    QCOMPARE(pong->value(u"type"_qs).toString(), u"pong"_qs);
    QVERIFY(pong->value(u"ref"_qs).toString().startsWith(u'r'));
}

void TestRealtimeServer::changesArriveWithCursorsXidAndTime()
{
    auto c = client(userToken(u"u1"_qs));
    auto sub = c->subscribe({{u"id"_qs, u"s1"_qs}, {u"table"_qs, u"public.items"_qs}});
    QVERIFY(sub && sub->value(u"type"_qs) == u"subscribed"_qs);
    // One query string = one implicit transaction: txid_current() is the insert's xid.
    const QString xid = exec(u"INSERT INTO items (title, n, price) VALUES ('a', 1, 1.50), ('b', 2, NULL); SELECT txid_current()::text"_qs);
    exec(u"UPDATE items SET done = true WHERE title = 'a'"_qs);
    exec(u"DELETE FROM items WHERE title = 'b'"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"s1"_qs).size(), 4, 5000);
    const auto changes = c->messagesOfType(u"change"_qs, u"s1"_qs);
    QCOMPARE(changes[0].value(u"op"_qs).toString(), u"insert"_qs);
    QCOMPARE(changes[0].value(u"table"_qs).toString(), u"public.items"_qs);
    QCOMPARE(changes[0].value(u"record"_qs).toObject().value(u"title"_qs).toString(), u"a"_qs);
    QCOMPARE(changes[0].value(u"record"_qs).toObject().value(u"price"_qs).toString(), u"1.50"_qs);
    QVERIFY(changes[0].value(u"old_record"_qs).isNull());
    QCOMPARE(QString::number(changes[0].value(u"xid"_qs).toInteger()), xid);
    QCOMPARE(changes[1].value(u"xid"_qs).toInteger(), changes[0].value(u"xid"_qs).toInteger());
    QCOMPARE(changes[2].value(u"op"_qs).toString(), u"update"_qs);
    QCOMPARE(changes[2].value(u"record"_qs).toObject().value(u"done"_qs).toBool(), true);
    QCOMPARE(changes[3].value(u"op"_qs).toString(), u"delete"_qs);
    QVERIFY(changes[3].value(u"record"_qs).isNull());
    QVERIFY(changes[3].value(u"old_record"_qs).toObject().contains(u"id"_qs));
    // Cursors strictly increase; two rows of one statement differ.
    for (int i = 1; i < changes.size(); ++i)
        QVERIFY(changes[i - 1].value(u"cursor"_qs).toString() < changes[i].value(u"cursor"_qs).toString());
    const QDateTime commit = QDateTime::fromString(changes[0].value(u"commit_time"_qs).toString(), Qt::ISODateWithMs);
    QVERIFY(commit.isValid());
    QVERIFY(qAbs(commit.secsTo(QDateTime::currentDateTimeUtc())) < 30);
}

void TestRealtimeServer::customEvents()
{
    auto c = client(userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"ev"_qs}, {u"channel"_qs, u"orders"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    subscribeMarker(*c);
    exec(u"SELECT pg_events.emit('orders', '{\"id\": 7, \"total\": 12.5}')"_qs);
    exec(u"BEGIN; SELECT pg_events.emit('orders', '{\"id\": 8}'); ROLLBACK"_qs); // never delivered
    exec(u"SELECT pg_events.emit('other', '{\"id\": 9}')"_qs);                     // another channel
    exec(u"SELECT pg_events.emit('orders', '\"done\"')"_qs);
    QVERIFY(waitForMarker(*c, m_db));
    const auto events = c->messagesOfType(u"event"_qs, u"ev"_qs);
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].value(u"channel"_qs).toString(), u"orders"_qs);
    QCOMPARE(events[0].value(u"payload"_qs).toObject().value(u"id"_qs).toInt(), 7);
    QCOMPARE(events[1].value(u"payload"_qs).toString(), u"done"_qs);

    // Channels are for authenticated roles by default.
    auto anonymous = std::make_unique<WsClient>();
    QVERIFY(anonymous->open(url(*m_server)));
    auto denied = anonymous->subscribe({{u"id"_qs, u"x"_qs}, {u"channel"_qs, u"orders"_qs}});
    QCOMPARE(denied->value(u"type"_qs).toString(), u"error"_qs);
    QCOMPARE(denied->value(u"code"_qs).toString(), u"unauthorized"_qs);
}

void TestRealtimeServer::filters_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QStringList>("titles");
    QTest::newRow("eq") << u"n=eq.2"_qs << QStringList{u"two"_qs};
    QTest::newRow("neq") << u"n=neq.2"_qs << QStringList{u"one"_qs, u"ten"_qs};
    QTest::newRow("lt numeric") << u"n=lt.10"_qs << QStringList{u"one"_qs, u"two"_qs};
    QTest::newRow("lte") << u"n=lte.10"_qs << QStringList{u"one"_qs, u"two"_qs, u"ten"_qs};
    QTest::newRow("gt") << u"n=gt.1"_qs << QStringList{u"two"_qs, u"ten"_qs};
    QTest::newRow("gte") << u"n=gte.2"_qs << QStringList{u"two"_qs, u"ten"_qs};
    QTest::newRow("in") << u"n=in.(1,10)"_qs << QStringList{u"one"_qs, u"ten"_qs};
    QTest::newRow("is null") << u"price=is.null"_qs << QStringList{u"ten"_qs};
    QTest::newRow("is true") << u"done=is.true"_qs << QStringList{u"two"_qs};
    QTest::newRow("is false") << u"done=is.false"_qs << QStringList{u"one"_qs, u"ten"_qs};
    QTest::newRow("like") << u"title=like.t*"_qs << QStringList{u"two"_qs, u"ten"_qs};
    QTest::newRow("ilike") << u"title=ilike.O*"_qs << QStringList{u"one"_qs};
    QTest::newRow("numeric as number") << u"price=gt.9.5"_qs << QStringList{u"two"_qs};
    QTest::newRow("and") << u"n=gt.1&done=is.false"_qs << QStringList{u"ten"_qs};
    QTest::newRow("uuid") << u"owner=eq.A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"_qs << QStringList{u"one"_qs};
    QTest::newRow("timestamptz") << u"at=gt.2000-01-01T00:00:00Z"_qs << QStringList{u"one"_qs, u"two"_qs, u"ten"_qs};
}

void TestRealtimeServer::filters()
{
    QFETCH(QString, filter);
    QFETCH(QStringList, titles);
    auto c = client(userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"f"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, filter},
                          {u"events"_qs, QJsonArray{u"insert"_qs}}})->value(u"type"_qs) == u"subscribed"_qs);
    QVERIFY(c->subscribe({{u"id"_qs, u"mk"_qs}, {u"channel"_qs, u"marker"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    // The marker is emitted last in the same transaction, so it arrives after every change
    // of it: once it is here, whatever the filter let through is here too.
    exec(u"INSERT INTO items (title, n, price, done, owner) VALUES ('one', 1, 1.5, false, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), "
         "('two', 2, 10.25, true, NULL), ('ten', 10, NULL, false, NULL); SELECT pg_events.emit('marker', '1')"_qs);
    QVERIFY(c->waitFor([](const QJsonObject &m) { return m.value(u"sub"_qs) == u"mk"_qs; }));
    QStringList got;
    for (const QJsonObject &ch : c->messagesOfType(u"change"_qs, u"f"_qs))
        got << ch.value(u"record"_qs).toObject().value(u"title"_qs).toString();
    QCOMPARE(got, titles);
}

void TestRealtimeServer::selectAndEvents()
{
    auto c = client(userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"sel"_qs}, {u"table"_qs, u"public.items"_qs}, {u"select"_qs, u"id,title"_qs},
                          {u"events"_qs, QJsonArray{u"update"_qs}}})->value(u"type"_qs) == u"subscribed"_qs);
    subscribeMarker(*c);
    exec(u"INSERT INTO items (title, n) VALUES ('sel', 5)"_qs);
    exec(u"UPDATE items SET n = 6 WHERE title = 'sel'"_qs);
    QVERIFY(waitForMarker(*c, m_db));
    const auto changes = c->messagesOfType(u"change"_qs, u"sel"_qs);
    QCOMPARE(changes.size(), 1); // the insert was not asked for
    QCOMPARE(changes[0].value(u"op"_qs).toString(), u"update"_qs);
    const QJsonObject record = changes[0].value(u"record"_qs).toObject();
    QCOMPARE(record.keys(), (QStringList{u"id"_qs, u"title"_qs}));
}

void TestRealtimeServer::unsubscribeStopsDelivery()
{
    auto c = client(userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"u"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    subscribeMarker(*c);
    exec(u"INSERT INTO items (title) VALUES ('before')"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"u"_qs).size(), 1, 5000);
    auto r = c->request({{u"type"_qs, u"unsubscribe"_qs}, {u"id"_qs, u"u"_qs}}, u"unsubscribed"_qs);
    QCOMPARE(r->value(u"type"_qs).toString(), u"unsubscribed"_qs);
    QCOMPARE(r->value(u"id"_qs).toString(), u"u"_qs);
    exec(u"INSERT INTO items (title) VALUES ('after')"_qs);
    QVERIFY(waitForMarker(*c, m_db));
    QCOMPARE(c->messagesOfType(u"change"_qs, u"u"_qs).size(), 1);
}

void TestRealtimeServer::subscribedMeansLive()
{
    // `subscribed` must never come before delivery is live: subscribe, write at once, and
    // the change must arrive — 1,000 times.
    auto c = client(userToken(u"u1"_qs));
    auto conn = TestCluster::instance().connect(m_db);
    int delivered = 0;
    for (int i = 0; i < 1000; ++i) {
        const QString id = u"live%1"_qs.arg(i);
        auto sub = c->subscribe({{u"id"_qs, id}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"n=eq.%1"_qs.arg(100000 + i)}});
        QVERIFY(sub && sub->value(u"type"_qs) == u"subscribed"_qs);
        QVERIFY(conn.exec(u"INSERT INTO items (title, n) VALUES ('live', $1)"_qs, {QString::number(100000 + i)}).ok());
        if (c->waitFor([id](const QJsonObject &m) { return m.value(u"sub"_qs) == id; }, 5000))
            ++delivered;
        c->send({{u"type"_qs, u"unsubscribe"_qs}, {u"id"_qs, id}});
        if (i % 100 == 99)
            c->clear();
    }
    QCOMPARE(delivered, 1000);
}

void TestRealtimeServer::rowLevelSecurity()
{
    // Two users on an RLS table, 10,000 mixed changes: each receives all of its own rows
    // and none of the other's.
    auto a = client(userToken(u"alice"_qs));
    auto b = client(userToken(u"bob"_qs));
    QVERIFY(a->subscribe({{u"id"_qs, u"n"_qs}, {u"table"_qs, u"public.notes"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    QVERIFY(b->subscribe({{u"id"_qs, u"n"_qs}, {u"table"_qs, u"public.notes"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    subscribeMarker(*a);
    subscribeMarker(*b);
    const qint64 roundsBefore = m_server->pipeline().stats().checkRounds;
    // 100 transactions x (40 inserts + 40 updates + 20 deletes) = 10,000 changes.
    exec(uR"(DO $$
        DECLARE t int;
        BEGIN
            FOR t IN 1..100 LOOP
                INSERT INTO notes (user_id, body) SELECT CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END, 'n' || t || '-' || g
                  FROM generate_series(1, 40) g;
                UPDATE notes SET body = body || '!' WHERE id IN (SELECT id FROM notes ORDER BY id DESC LIMIT 40);
                DELETE FROM notes WHERE id IN (SELECT id FROM notes ORDER BY id DESC LIMIT 20);
                COMMIT;
            END LOOP;
        END $$)"_qs);
    QVERIFY(waitForMarker(*a, m_db, 30000));
    QVERIFY(waitForMarker(*b, m_db, 30000));
    for (WsClient *c : {a.get(), b.get()}) {
        const QString me = c == a.get() ? u"alice"_qs : u"bob"_qs;
        int inserts = 0, updates = 0, deletes = 0;
        for (const QJsonObject &m : c->messagesOfType(u"change"_qs, u"n"_qs)) {
            const QString op = m.value(u"op"_qs).toString();
            // The table is tracked with REPLICA IDENTITY FULL: deletes are judged on the
            // deleted row too, and reach only its owner.
            const QJsonObject row = op == u"delete"_qs ? m.value(u"old_record"_qs).toObject() : m.value(u"record"_qs).toObject();
            QCOMPARE(row.value(u"user_id"_qs).toString(), me); // never the other's
            inserts += op == u"insert"_qs;
            updates += op == u"update"_qs;
            deletes += op == u"delete"_qs;
        }
        // Every change of mine arrived: 20 inserts, 20 updates, 10 deletes per transaction.
        QCOMPARE(inserts, 2000);
        QCOMPARE(updates, 2000);
        QCOMPARE(deletes, 1000);
    }
    // Batched: one round trip per batch of transactions (both users in it), far fewer
    // than one per transaction and user.
    const qint64 rounds = m_server->pipeline().stats().checkRounds - roundsBefore;
    QVERIFY2(rounds <= 100 + 6, qPrintable(QString::number(rounds)));
}

void TestRealtimeServer::rlsUnderConcurrentWriters()
{
    // A commit can be decoded before it is visible to new snapshots; an RLS check made in
    // that gap must not lose the row. Four writers, 100 one-row transactions each.
    auto a = client(userToken(u"carol"_qs));
    QVERIFY(a->subscribe({{u"id"_qs, u"c"_qs}, {u"table"_qs, u"public.notes"_qs}, {u"events"_qs, QJsonArray{u"insert"_qs}}})
                ->value(u"type"_qs) == u"subscribed"_qs);
    const QString conninfo = TestCluster::instance().conninfo(m_db);
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([conninfo, w, &failures] {
            auto conn = PgConnection::open(conninfo);
            if (!conn) {
                ++failures;
                return;
            }
            for (int i = 0; i < 100; ++i)
                if (!conn->exec(u"INSERT INTO notes (user_id, body) VALUES ('carol', $1)"_qs, {u"w%1-%2"_qs.arg(w).arg(i)}))
                    ++failures;
        });
    }
    for (auto &t : writers)
        t.join();
    QCOMPARE(failures.load(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(a->messagesOfType(u"change"_qs, u"c"_qs).size(), 400, 15000);
    QSet<QString> bodies;
    for (const QJsonObject &m : a->messagesOfType(u"change"_qs, u"c"_qs))
        bodies.insert(m.value(u"record"_qs).toObject().value(u"body"_qs).toString());
    QCOMPARE(bodies.size(), 400);
}

void TestRealtimeServer::badInput_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("code");
    QTest::newRow("garbage") << u"{not json"_qs << u"invalid_message"_qs;
    QTest::newRow("array") << u"[1,2]"_qs << u"invalid_message"_qs;
    QTest::newRow("no type") << u"{}"_qs << u"invalid_message"_qs;
    QTest::newRow("bad filter operator") << u"{\"type\":\"subscribe\",\"id\":\"x\",\"table\":\"public.items\",\"filter\":\"n=like2.3\"}"_qs << u"invalid_filter"_qs;
    QTest::newRow("filter unknown column") << u"{\"type\":\"subscribe\",\"id\":\"x\",\"table\":\"public.items\",\"filter\":\"nope=eq.1\"}"_qs << u"invalid_filter"_qs;
    QTest::newRow("filter bad value") << u"{\"type\":\"subscribe\",\"id\":\"x\",\"table\":\"public.items\",\"filter\":\"n=eq.abc\"}"_qs << u"invalid_filter"_qs;
    QTest::newRow("select unknown column") << u"{\"type\":\"subscribe\",\"id\":\"x\",\"table\":\"public.items\",\"select\":\"id,nope\"}"_qs << u"invalid_filter"_qs;
    QTest::newRow("unsubscribe unknown") << u"{\"type\":\"unsubscribe\",\"id\":\"nope\"}"_qs << u"invalid_message"_qs;
    QTest::newRow("auth garbage token") << u"{\"type\":\"auth\",\"token\":\"a.b.c\"}"_qs << u"unauthorized"_qs;
    // The parser's own rows are in tst_clientmessage; these go through a live session.
}

void TestRealtimeServer::badInput()
{
    QFETCH(QString, text);
    QFETCH(QString, code);
    auto c = client(userToken(u"u1"_qs));
    c->sendRaw(text);
    auto e = c->waitType(u"error"_qs);
    QVERIFY2(e, "no error reply");
    QCOMPARE(e->value(u"code"_qs).toString(), code);
    QVERIFY(!e->value(u"message"_qs).toString().isEmpty());
    // Never a crash: the connection and the server go on.
    QVERIFY(c->request({{u"type"_qs, u"ping"_qs}}, u"pong"_qs)->value(u"type"_qs) == u"pong"_qs);
}

void TestRealtimeServer::oversizedMessage()
{
    auto c = client(userToken(u"u1"_qs));
    c->sendRaw(u"{\"type\":\"ping\",\"pad\":\""_qs + QString(m_server->config().maxMessageBytes + 10, u'x') + u"\"}"_qs);
    auto e = c->waitType(u"error"_qs);
    QVERIFY(e);
    QCOMPARE(e->value(u"code"_qs).toString(), u"message_too_large"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->socket().state(), QAbstractSocket::UnconnectedState, 5000);
    // A frame beyond Qt's hard limit is refused by Qt itself; the server lives on.
    auto d = client();
    d->sendRaw(QString(m_server->config().maxMessageBytes * 3, u'y'));
    QTRY_COMPARE_WITH_TIMEOUT(d->socket().state(), QAbstractSocket::UnconnectedState, 5000);
    QVERIFY(client()->request({{u"type"_qs, u"ping"_qs}}, u"pong"_qs));
    // Duplicate ids and too many subscriptions.
    auto e2 = client(userToken(u"u1"_qs));
    QVERIFY(e2->subscribe({{u"id"_qs, u"dup"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    QCOMPARE(e2->subscribe({{u"id"_qs, u"dup"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"code"_qs).toString(), u"invalid_message"_qs);
    for (int i = 1; i < m_server->config().maxSubscriptions; ++i)
        e2->send({{u"type"_qs, u"subscribe"_qs}, {u"id"_qs, u"m%1"_qs.arg(i)}, {u"channel"_qs, u"c"_qs}});
    QTRY_VERIFY_WITH_TIMEOUT(e2->messagesOfType(u"subscribed"_qs).size() == m_server->config().maxSubscriptions, 10000);
    QCOMPARE(e2->subscribe({{u"id"_qs, u"one-too-many"_qs}, {u"channel"_qs, u"c"_qs}})->value(u"code"_qs).toString(), u"too_many_subscriptions"_qs);
}

void TestRealtimeServer::authErrors()
{
    auto c = client();
    // No token and no anonymous role configured.
    auto noAuth = c->subscribe({{u"id"_qs, u"x"_qs}, {u"table"_qs, u"public.items"_qs}});
    QCOMPARE(noAuth->value(u"code"_qs).toString(), u"unauthorized"_qs);
    auto wrongKey = c->request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, mint({{u"role"_qs, u"rt_user"_qs}}, "some-other-secret-that-is-long-enough!!")}}, u"auth_ok"_qs);
    QCOMPARE(wrongKey->value(u"code"_qs).toString(), u"unauthorized"_qs);
    auto expired = c->request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, mint({{u"role"_qs, u"rt_user"_qs}, {u"exp"_qs, QDateTime::currentSecsSinceEpoch() - 60}})}}, u"auth_ok"_qs);
    QCOMPARE(expired->value(u"code"_qs).toString(), u"token_expired"_qs);
    auto ok = c->request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, userToken(u"u9"_qs)}}, u"auth_ok"_qs);
    QCOMPARE(ok->value(u"type"_qs).toString(), u"auth_ok"_qs);
    QCOMPARE(ok->value(u"role"_qs).toString(), u"rt_user"_qs);
    QVERIFY(ok->value(u"exp"_qs).toInteger() > QDateTime::currentSecsSinceEpoch());
    auto noExp = c->request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, mint({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"u9"_qs}})}}, u"auth_ok"_qs);
    QVERIFY(noExp->value(u"exp"_qs).isNull());
    // Defect 17: a role that does not exist is refused at auth, as PostgREST refuses the
    // request at once (400), not on the first subscription.
    auto ghost = c->request({{u"type"_qs, u"auth"_qs}, {u"token"_qs, userToken(u"g"_qs, u"no_such_role"_qs)}}, u"auth_ok"_qs);
    QCOMPARE(ghost->value(u"code"_qs).toString(), u"unauthorized"_qs);
    QVERIFY2(ghost->value(u"message"_qs).toString().contains(u"role \"no_such_role\" does not exist"_qs),
             qPrintable(ghost->value(u"message"_qs).toString()));
    // Messages after an auth wait for its verdict: this subscribe runs as u9's role still.
    c->send({{u"type"_qs, u"auth"_qs}, {u"token"_qs, userToken(u"g"_qs, u"no_such_role"_qs)}});
    QCOMPARE(c->subscribe({{u"id"_qs, u"after"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
}

void TestRealtimeServer::tokenExpiry()
{
    // Valid for ~3 more seconds (exp 27 s ago, 30 s skew).
    auto c = client(mint({{u"role"_qs, u"rt_user"_qs}, {u"sub"_qs, u"t"_qs}, {u"exp"_qs, QDateTime::currentSecsSinceEpoch() - 27}}));
    QVERIFY(c->subscribe({{u"id"_qs, u"e"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    auto e = c->waitFor([](const QJsonObject &m) { return m.value(u"code"_qs) == u"token_expired"_qs; }, 8000);
    QVERIFY(e);
    QCOMPARE(e->value(u"id"_qs).toString(), u"e"_qs);
    // The marker goes to a second, valid connection: its arrival bounds what the first
    // could have received.
    auto watcher = client(userToken(u"w"_qs));
    QVERIFY(watcher->subscribe({{u"id"_qs, u"all"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    subscribeMarker(*watcher);
    exec(u"INSERT INTO items (title) VALUES ('after expiry')"_qs);
    QVERIFY(waitForMarker(*watcher, m_db));
    QTRY_COMPARE_WITH_TIMEOUT(watcher->messagesOfType(u"change"_qs, u"all"_qs).size(), 1, 5000);
    QCOMPARE(c->messagesOfType(u"change"_qs, u"e"_qs).size(), 0);
    // A refreshed token before expiry keeps the subscription.
    auto r = client(userToken(u"t2"_qs));
    QVERIFY(r->subscribe({{u"id"_qs, u"k"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    QVERIFY(r->auth(userToken(u"t2"_qs)));
    exec(u"INSERT INTO items (title) VALUES ('refreshed')"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(r->messagesOfType(u"change"_qs, u"k"_qs).size(), 1, 5000);
}

void TestRealtimeServer::forbiddenAndUnknownTables()
{
    auto c = client(userToken(u"u1"_qs));
    QCOMPARE(c->subscribe({{u"id"_qs, u"a"_qs}, {u"table"_qs, u"public.secret"_qs}})->value(u"code"_qs).toString(), u"forbidden"_qs);
    QCOMPARE(c->subscribe({{u"id"_qs, u"b"_qs}, {u"table"_qs, u"public.nope"_qs}})->value(u"code"_qs).toString(), u"unknown_table"_qs);
    QCOMPARE(c->subscribe({{u"id"_qs, u"c"_qs}, {u"table"_qs, u"public.untracked"_qs}})->value(u"code"_qs).toString(), u"unknown_table"_qs);
    QCOMPARE(c->subscribe({{u"id"_qs, u"d"_qs}, {u"table"_qs, u"nosuchschema.t"_qs}})->value(u"code"_qs).toString(), u"unknown_table"_qs);
    // Names are exact: public.Items is not public.items.
    QCOMPARE(c->subscribe({{u"id"_qs, u"e"_qs}, {u"table"_qs, u"public.Items"_qs}})->value(u"code"_qs).toString(), u"unknown_table"_qs);
}

void TestRealtimeServer::healthMetricsAndOrigin()
{
    QNetworkAccessManager nam;
    auto get = [&nam, this](const QString &path) {
        QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1%2"_qs.arg(m_server->port()).arg(path))));
        QSignalSpy done(reply, &QNetworkReply::finished);
        done.wait(5000);
        reply->deleteLater();
        return std::make_pair(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll());
    };
    const auto [hs, health] = get(u"/health"_qs);
    QCOMPARE(hs, 200);
    const QJsonObject h = QJsonDocument::fromJson(health).object();
    QCOMPARE(h.value(u"replication"_qs).toString(), u"streaming"_qs);
    QCOMPARE(h.value(u"database"_qs).toString(), u"connected"_qs);
    QCOMPARE(h.value(u"reasons"_qs).toArray().size(), 0);
    QCOMPARE(get(u"/health/live"_qs).first, 200);
    QCOMPARE(get(u"/health/ready"_qs).first, 200);
    // Idle (other than untracked writes): the lag settles near zero instead of growing.
    exec(u"INSERT INTO untracked SELECT g FROM generate_series(100001, 130000) g"_qs);
    QTRY_VERIFY_WITH_TIMEOUT(QJsonDocument::fromJson(get(u"/health"_qs).second).object().value(u"lag_bytes"_qs).toInteger() < 65536, 15000);
    const auto [ms, metrics] = get(u"/metrics"_qs);
    QCOMPARE(ms, 200);
    for (const char *name : {"pg_events_ws_connections", "pg_events_ws_sockets", "pg_events_ws_subscriptions", "pg_events_ws_events_in_total",
                             "pg_events_ws_events_out_total", "pg_events_ws_replication_lag_bytes", "pg_events_ws_replay_window_events",
                             "pg_events_ws_rls_rows_checked_total", "pg_events_ws_check_retries_total", "pg_events_ws_ready"})
        QVERIFY2(metrics.contains(QByteArray(QByteArray(name) + ' ')), name);
    QCOMPARE(get(u"/nope"_qs).first, 404);

    WsClient evil;
    QVERIFY(!evil.open(url(*m_server), u"https://evil.example"_qs));
    WsClient local;
    QVERIFY(local.open(url(*m_server), u"http://localhost:5173"_qs));
}

// A client frame: text, masked (clients must mask).
static QByteArray clientFrame(const QByteArray &payload)
{
    QByteArray f;
    f.append(char(0x81));
    if (payload.size() < 126) {
        f.append(char(0x80 | payload.size()));
    } else {
        f.append(char(0x80 | 126));
        f.append(char((payload.size() >> 8) & 0xff));
        f.append(char(payload.size() & 0xff));
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(char(payload[i] ^ mask[i % 4]));
    return f;
}

void TestRealtimeServer::slowConsumer()
{
    ServerConfig config = baseConfig(m_db, u"rt_slow"_qs);
    config.maxOutgoingBytes = 64 * 1024;
    auto server = startServer(config);
    // A raw client that speaks just enough WebSocket to subscribe, then stops reading.
    QTcpSocket raw;
    raw.setReadBufferSize(4096);
    raw.connectToHost(QHostAddress::LocalHost, server->port());
    QVERIFY(raw.waitForConnected(3000));
    raw.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(raw.bytesAvailable() > 0, 3000);
    raw.write(clientFrame(QJsonDocument(QJsonObject{{u"type"_qs, u"auth"_qs}, {u"token"_qs, userToken(u"slow"_qs)}}).toJson(QJsonDocument::Compact)));
    raw.write(clientFrame(R"({"type":"subscribe","id":"s","table":"public.items","filter":"title=like.slow*"})"));
    QTRY_COMPARE_WITH_TIMEOUT(server->pipeline().subscriptionCount(), 1, 5000);
    // Several megabytes of changes; the client's kernel buffer fills, then ours.
    for (int i = 0; i < 10; ++i)
        exec(u"INSERT INTO items (title) SELECT 'slow' || repeat('x', 2000) FROM generate_series(1, 500)"_qs);
    QTRY_VERIFY_WITH_TIMEOUT(server->counters().slowConsumers == 1, 15000);
    // It was told why before the close, in order, after everything it did get.
    raw.setReadBufferSize(0);
    QByteArray all;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 10000 && raw.state() == QAbstractSocket::ConnectedState) {
        raw.waitForReadyRead(200);
        all += raw.readAll();
    }
    all += raw.readAll();
    QVERIFY2(all.contains("\"code\":\"slow_consumer\""), "no slow_consumer error on the wire");
    // Everyone else is fine.
    WsClient other;
    QVERIFY(other.open(url(*server)));
}

void TestRealtimeServer::channelAuthorization()
{
    exec(uR"(CREATE FUNCTION pg_events.authorize_channel(channel text) RETURNS boolean LANGUAGE sql STABLE AS $$
                 SELECT channel <> 'admin' OR current_setting('request.jwt.claims', true)::json ->> 'sub' = 'root' $$;
             GRANT EXECUTE ON FUNCTION pg_events.authorize_channel(text) TO PUBLIC)"_qs);
    auto user = client(userToken(u"u1"_qs));
    auto root = client(userToken(u"root"_qs));
    QCOMPARE(user->subscribe({{u"id"_qs, u"a"_qs}, {u"channel"_qs, u"admin"_qs}})->value(u"code"_qs).toString(), u"forbidden"_qs);
    QCOMPARE(user->subscribe({{u"id"_qs, u"b"_qs}, {u"channel"_qs, u"news"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
    QCOMPARE(root->subscribe({{u"id"_qs, u"a"_qs}, {u"channel"_qs, u"admin"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
    subscribeMarker(*user);
    exec(u"SELECT pg_events.emit('admin', '{\"x\":1}')"_qs);
    QVERIFY(waitForMarker(*user, m_db));
    QTRY_COMPARE_WITH_TIMEOUT(root->messagesOfType(u"event"_qs, u"a"_qs).size(), 1, 5000);
    QCOMPARE(user->messagesOfType(u"event"_qs, u"a"_qs).size(), 0);
    exec(u"DROP FUNCTION pg_events.authorize_channel(text)"_qs);
    // Back to the default rule: any authenticated role.
    QCOMPARE(user->subscribe({{u"id"_qs, u"c"_qs}, {u"channel"_qs, u"admin"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
}

void TestRealtimeServer::connectionCaps()
{
    ServerConfig config = baseConfig(m_db, u"rt_caps"_qs);
    config.maxConnectionsPerIp = 2;
    auto server = startServer(config);
    WsClient a, b, c;
    QVERIFY(a.open(url(*server)));
    QVERIFY(b.open(url(*server)));
    QVERIFY(!c.open(url(*server))); // refused before the upgrade
    QVERIFY(server->rejectedConnections() >= 1);
    a.socket().close();
    QTRY_COMPARE_WITH_TIMEOUT(server->openSockets(), 1, 3000);
    WsClient d;
    QVERIFY(d.open(url(*server)));
}

void TestRealtimeServer::gracefulShutdown()
{
    auto server = startServer(baseConfig(m_db, u"rt_shutdown"_qs));
    WsClient c;
    QVERIFY(c.open(url(*server)));
    QSignalSpy done(server.get(), &Server::shutdownComplete);
    server->shutdown();
    auto e = c.waitType(u"error"_qs);
    QVERIFY(e);
    QCOMPARE(e->value(u"code"_qs).toString(), u"server_shutting_down"_qs);
    QVERIFY(done.count() > 0 || done.wait(5000));
}

QTEST_GUILESS_MAIN(TestRealtimeServer)
#include "tst_realtimeserver.moc"
