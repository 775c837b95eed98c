#include "realtimefixture.h"
#include "scaffold.h"

#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QScopeGuard>
#include <QTest>

#include <atomic>
#include <csignal>
#include <thread>

using namespace Core;
using namespace Realtime;
using namespace RealtimeFixture;

// Resume, restarts and load, against real PostgreSQL; the killed-server test runs the
// real pg_events_ws binary and kills it with SIGKILL.
class TestRealtimeResume : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void resumeFromCursor();
    void cursorTooOld();
    void restartServesSinceExactly();          // 3
    void killedServerResumesWithoutDuplicates(); // 16
    void largeTransactionIsBounded();          // 11
    void manyUsersShareRoundTrips();           // 19
    void idleSlotAdvances();
    void lostSlotMeansResync();                // 9 (the server side; per-subscription ends: tst_pipeline)
    void survivesPostgresRestart();

private:
    QString exec(const QString &sql) { return RealtimeFixture::exec(m_db, sql); }
    std::unique_ptr<WsClient> client(const QString &token = {}) { return RealtimeFixture::client(*m_server, token); }
    static QList<int> ns(const QList<QJsonObject> &changes)
    {
        QList<int> out;
        for (const QJsonObject &m : changes)
            out << m.value(u"record"_qs).toObject().value(u"n"_qs).toInt();
        return out;
    }

    QString m_db;
    std::unique_ptr<Server> m_server;
};

void TestRealtimeResume::initTestCase()
{
    m_db = createDatabase(u"rtres"_qs);
    exec(uR"(
        CREATE TABLE public.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text, n int);
        GRANT SELECT ON public.items TO rt_user;
        CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner text NOT NULL, n int);
        ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own ON public.notes FOR SELECT TO rt_user
            USING (owner = (current_setting('request.jwt.claims', true)::json ->> 'sub'));
        GRANT SELECT ON public.notes TO rt_user;
        CREATE TABLE public.untracked (id int PRIMARY KEY);
        SELECT pg_events.track('public.items'), pg_events.track('public.notes');
    )"_qs);
    m_server = startServer(baseConfig(m_db, u"rt_res"_qs));
}

void TestRealtimeResume::cleanupTestCase()
{
    m_server.reset();
    exec(u"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active"_qs);
}

void TestRealtimeResume::resumeFromCursor()
{
    auto c = client(userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"r"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.resume"_qs}})
                ->value(u"type"_qs) == u"subscribed"_qs);
    exec(u"INSERT INTO items (title, n) SELECT 'resume', g FROM generate_series(1, 5) g"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"r"_qs).size(), 5, 5000);
    const QString last = c->messagesOfType(u"change"_qs, u"r"_qs).at(2).value(u"cursor"_qs).toString(); // saw 3 of them
    c.reset(); // disconnect
    exec(u"INSERT INTO items (title, n) SELECT 'resume', g FROM generate_series(6, 10) g"_qs);
    exec(u"UPDATE items SET n = n + 100 WHERE title = 'resume' AND n = 10"_qs);
    auto again = client(userToken(u"u1"_qs));
    auto sub = again->subscribe({{u"id"_qs, u"r"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.resume"_qs},
                                 {u"since"_qs, last}});
    QCOMPARE(sub->value(u"type"_qs).toString(), u"subscribed"_qs);
    subscribeMarker(*again);
    exec(u"INSERT INTO items (title, n) VALUES ('resume', 11)"_qs); // live after the replay
    QVERIFY(waitForMarker(*again, m_db));
    const auto changes = again->messagesOfType(u"change"_qs, u"r"_qs);
    QCOMPARE(ns(changes), (QList<int>{4, 5, 6, 7, 8, 9, 10, 110, 11})); // missed ones, then live, none twice
    for (int i = 0; i < changes.size(); ++i) {
        QVERIFY(changes[i].value(u"cursor"_qs).toString() > last);
        if (i)
            QVERIFY(changes[i - 1].value(u"cursor"_qs).toString() < changes[i].value(u"cursor"_qs).toString());
    }
}

void TestRealtimeResume::cursorTooOld()
{
    ServerConfig small = baseConfig(m_db, u"rt_res_small"_qs);
    small.window.maxEvents = 5;
    auto server = startServer(small);
    auto c = RealtimeFixture::client(*server, userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"w"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.window"_qs}})
                ->value(u"type"_qs) == u"subscribed"_qs);
    exec(u"INSERT INTO items (title) VALUES ('window')"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"w"_qs).size(), 1, 5000);
    const QString early = c->messagesOfType(u"change"_qs, u"w"_qs).first().value(u"cursor"_qs).toString();
    for (int i = 0; i < 10; ++i)
        exec(u"INSERT INTO items (title) VALUES ('window')"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"w"_qs).size(), 11, 5000);
    auto old = c->subscribe({{u"id"_qs, u"old"_qs}, {u"table"_qs, u"public.items"_qs}, {u"since"_qs, early}});
    QCOMPARE(old->value(u"code"_qs).toString(), u"cursor_too_old"_qs);
    QCOMPARE(old->value(u"id"_qs).toString(), u"old"_qs);
    // A recent cursor is still served.
    const QString recent = c->messagesOfType(u"change"_qs, u"w"_qs).at(8).value(u"cursor"_qs).toString();
    auto ok = c->subscribe({{u"id"_qs, u"new"_qs}, {u"table"_qs, u"public.items"_qs}, {u"since"_qs, recent}, {u"filter"_qs, u"title=eq.window"_qs}});
    QCOMPARE(ok->value(u"type"_qs).toString(), u"subscribed"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"new"_qs).size(), 2, 5000);
}

void TestRealtimeResume::restartServesSinceExactly()
{
    // Defect 3: right after a restart the horizon was {0,0}, so any `since` was accepted
    // and served from the slot's resend only; the rebuilt window went out as live events
    // and `subscribed.cursor` was 0000… Subscriptions made before the server caught up
    // now wait for it.
    QString cursor;
    {
        auto first = startServer(baseConfig(m_db, u"rt_res_restart"_qs));
        auto c = RealtimeFixture::client(*first, userToken(u"u1"_qs));
        QVERIFY(c->subscribe({{u"id"_qs, u"x"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.rebuild"_qs}})
                    ->value(u"type"_qs) == u"subscribed"_qs);
        for (int i = 1; i <= 5; ++i)
            exec(u"INSERT INTO items (title, n) VALUES ('rebuild', %1)"_qs.arg(i));
        QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"x"_qs).size(), 5, 5000);
        cursor = c->messagesOfType(u"change"_qs, u"x"_qs).at(1).value(u"cursor"_qs).toString();
        first->shutdown();
    }
    exec(u"INSERT INTO items (title, n) VALUES ('rebuild', 6)"_qs); // while no server runs
    // Subscribe at once, before the new server has read its slot.
    auto created = Server::create(baseConfig(m_db, u"rt_res_restart"_qs));
    QVERIFY(created.ok());
    std::unique_ptr<Server> second = std::move(created).value();
    QVERIFY(second->listen().ok());
    WsClient resumed, fresh;
    QVERIFY(resumed.open(url(*second)));
    QVERIFY(fresh.open(url(*second)));
    QVERIFY(resumed.auth(userToken(u"u1"_qs)));
    QVERIFY(fresh.auth(userToken(u"u1"_qs)));
    resumed.send({{u"type"_qs, u"subscribe"_qs}, {u"id"_qs, u"y"_qs}, {u"table"_qs, u"public.items"_qs},
                  {u"filter"_qs, u"title=eq.rebuild"_qs}, {u"since"_qs, cursor}});
    fresh.send({{u"type"_qs, u"subscribe"_qs}, {u"id"_qs, u"z"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.rebuild"_qs}});
    QVERIFY(resumed.waitType(u"subscribed"_qs, 20000));
    auto sub = fresh.waitType(u"subscribed"_qs, 20000);
    QVERIFY(sub);
    QVERIFY(second->pipeline().isReady());
    QVERIFY2(sub->value(u"cursor"_qs).toString() > cursor, qPrintable(sub->value(u"cursor"_qs).toString())); // the real head
    subscribeMarker(resumed);
    subscribeMarker(fresh);
    exec(u"INSERT INTO items (title, n) VALUES ('rebuild', 7)"_qs);
    QVERIFY(waitForMarker(resumed, m_db));
    QVERIFY(waitForMarker(fresh, m_db));
    QCOMPARE(ns(resumed.messagesOfType(u"change"_qs, u"y"_qs)), (QList<int>{3, 4, 5, 6, 7}));
    QCOMPARE(ns(fresh.messagesOfType(u"change"_qs, u"z"_qs)), QList<int>{7}); // no history as live events
    // Older than anything the slot kept: a resync, not a silent gap.
    auto ancient = resumed.subscribe({{u"id"_qs, u"a"_qs}, {u"table"_qs, u"public.items"_qs}, {u"since"_qs, u"0000000000000001.00000000"_qs}});
    QCOMPARE(ancient->value(u"code"_qs).toString(), u"cursor_too_old"_qs);
}

// The real binary, configured through the environment as pgext dev does it.
static std::unique_ptr<QProcess> launch(const QString &db, const QString &slot, int port)
{
    auto p = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"DATABASE_URL"_qs, TestCluster::instance().conninfo(db) + u" user=rt_auth"_qs);
    env.insert(u"PG_EVENTS_WS_DATABASE_REPLICATION_URL"_qs, TestCluster::instance().conninfo(db));
    env.insert(u"JWT_SECRET"_qs, QString::fromLatin1(Secret));
    env.insert(u"PG_EVENTS_WS_SERVER_PORT"_qs, QString::number(port));
    env.insert(u"PG_EVENTS_WS_DATABASE_SLOT"_qs, slot);
    p->setProcessEnvironment(env);
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p->start(QStringLiteral(PG_EVENTS_WS_BINARY), {});
    if (!p->waitForStarted(5000))
        qFatal("pg_events_ws did not start");
    return p;
}

static bool waitReady(int port, int ms)
{
    QNetworkAccessManager nam;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        QNetworkReply *r = nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1/health/ready"_qs.arg(port))));
        QSignalSpy done(r, &QNetworkReply::finished);
        done.wait(1000);
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r->deleteLater();
        if (status == 200)
            return true;
        QTest::qWait(50);
    }
    return false;
}

void TestRealtimeResume::killedServerResumesWithoutDuplicates()
{
    // Defect 16: after each SIGKILL every client resuming with `since` received its whole
    // history again. Three kills while a writer commits numbered rows: the client applies
    // every row exactly once, in order, and is never sent one at or before its cursor.
    const int port = Scaffold::freePort(42000 + int(QCoreApplication::applicationPid() % 5000), 59999);
    auto server = launch(m_db, u"rt_res_kill"_qs, port);
    QVERIFY(waitReady(port, 20000));
    std::atomic<bool> writing{true};
    std::atomic<int> committed{0};
    const QString conninfo = TestCluster::instance().conninfo(m_db);
    std::thread writer;
    auto write = [&] {
        auto conn = PgConnection::open(conninfo);
        if (!conn)
            return;
        for (int i = 1; writing; ++i) {
            if (conn->exec(u"INSERT INTO items (title, n) VALUES ('kill', $1)"_qs, {QString::number(i)}))
                committed = i;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    };
    auto stopWriter = qScopeGuard([&] { writing = false; if (writer.joinable()) writer.join(); });
    QString last;
    QList<int> applied;
    int resent = 0;
    for (int round = 0; round < 4; ++round) {
        WsClient c;
        QVERIFY(c.open(QUrl(u"ws://127.0.0.1:%1/"_qs.arg(port))));
        QVERIFY(c.auth(userToken(u"u1"_qs)));
        QJsonObject sub{{u"id"_qs, u"k"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.kill"_qs}};
        if (!last.isEmpty())
            sub.insert(u"since"_qs, last);
        QCOMPARE(c.subscribe(sub)->value(u"type"_qs).toString(), u"subscribed"_qs);
        if (round == 0)
            writer = std::thread(write); // every row it commits is one the client must get
        const int target = applied.size() + 150;
        QTRY_VERIFY_WITH_TIMEOUT(c.messagesOfType(u"change"_qs, u"k"_qs).size() + applied.size() >= target || round == 3, 20000);
        if (round == 3) {
            // Last round: stop writing, everything committed must arrive.
            writing = false;
            writer.join();
            const int total = committed;
            QTRY_VERIFY_WITH_TIMEOUT(!c.messagesOfType(u"change"_qs, u"k"_qs).isEmpty()
                                         && c.messagesOfType(u"change"_qs, u"k"_qs).last().value(u"record"_qs).toObject().value(u"n"_qs).toInt() == total,
                                     20000);
        }
        for (const QJsonObject &m : c.messagesOfType(u"change"_qs, u"k"_qs)) {
            const QString cursor = m.value(u"cursor"_qs).toString();
            if (!last.isEmpty() && cursor <= last) {
                ++resent;
                continue;
            }
            last = cursor;
            applied << m.value(u"record"_qs).toObject().value(u"n"_qs).toInt();
        }
        if (round < 3) {
            qInfo("round %d: applied up to %d (%s)", round, applied.isEmpty() ? 0 : applied.last(), qPrintable(last));
            ::kill(pid_t(server->processId()), SIGKILL);
            server->waitForFinished(5000);
            server = launch(m_db, u"rt_res_kill"_qs, port);
            QVERIFY(waitReady(port, 20000));
        }
    }
    server->terminate();
    server->waitForFinished(5000);
    QCOMPARE(resent, 0);
    QStringList missing;
    for (int i = 1, j = 0; i <= committed.load(); ++i) {
        if (j < applied.size() && applied[j] == i)
            ++j;
        else
            missing << QString::number(i);
    }
    QVERIFY2(missing.isEmpty(), qPrintable(u"missing: "_qs + missing.join(u',')));
    QCOMPARE(applied.size(), committed.load());
    for (int i = 0; i < applied.size(); ++i)
        QCOMPARE(applied[i], i + 1);
    qInfo("3 SIGKILLs, %d rows: 0 missing, 0 sent again", int(applied.size()));
}

void TestRealtimeResume::largeTransactionIsBounded()
{
    // Defect 11: a whole transaction was held and copied, and the queue grew while RLS
    // checks were slow. It now flows in chunks, and the stream pauses while the pipeline
    // is full; every row still arrives, in order.
    // Checks that take 20 ms a round: the stream outruns them.
    exec(uR"(CREATE FUNCTION slow_check() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
                 BEGIN PERFORM pg_sleep(0.02); RETURN true; END $$;
             CREATE TABLE public.bulk (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner text NOT NULL, n int);
             ALTER TABLE public.bulk ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own ON public.bulk FOR SELECT TO rt_user
                 USING (owner = (current_setting('request.jwt.claims', true)::json ->> 'sub') AND (SELECT slow_check()));
             GRANT SELECT ON public.bulk TO rt_user;
             SELECT pg_events.track('public.bulk'))"_qs);
    ServerConfig config = baseConfig(m_db, u"rt_res_big"_qs);
    config.chunkEvents = 500;
    config.batchEvents = 500;
    config.maxQueueBytes = 1024 * 1024;
    config.window.maxEvents = 1000; // far smaller than the transaction
    auto server = startServer(config);
    auto c = RealtimeFixture::client(*server, userToken(u"bigowner"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"b"_qs}, {u"table"_qs, u"public.bulk"_qs}, {u"select"_qs, u"n"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
    qint64 maxQueued = 0;
    QTimer sample;
    connect(&sample, &QTimer::timeout, this, [&] { maxQueued = std::max(maxQueued, server->pipeline().queuedBytes()); });
    sample.start(1);
    exec(u"INSERT INTO bulk (owner, n) SELECT 'bigowner', g FROM generate_series(1, 100000) g"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"b"_qs).size(), 100000, 120000);
    sample.stop();
    const auto changes = c->messagesOfType(u"change"_qs, u"b"_qs);
    QCOMPARE(changes.first().value(u"record"_qs).toObject().value(u"n"_qs).toInt(), 1);
    QCOMPARE(changes.last().value(u"record"_qs).toObject().value(u"n"_qs).toInt(), 100000);
    QVERIFY2(server->pipeline().stats().pauses > 0, "the stream was never paused");
    // At most the limit plus the chunk that crossed it.
    QVERIFY2(maxQueued <= config.maxQueueBytes + 512 * 1024, qPrintable(QString::number(maxQueued)));
    QVERIFY(server->pipeline().window().size() <= 1000);
    qInfo("100,000-row transaction: %lld pauses, at most %lld bytes queued, %lld check rounds",
          server->pipeline().stats().pauses, maxQueued, server->pipeline().stats().checkRounds);
}

void TestRealtimeResume::manyUsersShareRoundTrips()
{
    // Defect 19: one query per transaction per identity could not keep up with 100 users.
    // 100 users, 2,000 single-row transactions: each gets its rows, and the round trips
    // are a fraction of transactions x users.
    std::vector<std::unique_ptr<WsClient>> users;
    for (int u = 0; u < 100; ++u) {
        users.push_back(client(userToken(u"user%1"_qs.arg(u))));
        QVERIFY(users.back()->subscribe({{u"id"_qs, u"n"_qs}, {u"table"_qs, u"public.notes"_qs}, {u"filter"_qs, u"owner=eq.user%1"_qs.arg(u)}})
                    ->value(u"type"_qs) == u"subscribed"_qs);
    }
    const qint64 roundsBefore = m_server->pipeline().stats().checkRounds;
    exec(uR"(DO $$ BEGIN
                 FOR i IN 1..2000 LOOP
                     INSERT INTO notes (owner, n) VALUES ('user' || (i % 100), i);
                     COMMIT;
                 END LOOP;
             END $$)"_qs);
    for (auto &u : users)
        QTRY_COMPARE_WITH_TIMEOUT(u->messagesOfType(u"change"_qs, u"n"_qs).size(), 20, 30000);
    const qint64 rounds = m_server->pipeline().stats().checkRounds - roundsBefore;
    qInfo("100 users x 2,000 transactions: %lld round trips (one query per transaction and user would be 200,000)", rounds);
    QVERIFY2(rounds <= 2000, qPrintable(QString::number(rounds)));
}

void TestRealtimeResume::idleSlotAdvances()
{
    // With nothing retained, WAL from untracked tables must not pile up behind the slot.
    ServerConfig config = baseConfig(m_db, u"rt_res_idle"_qs);
    config.window.maxEvents = 0;
    auto server = startServer(config);
    exec(u"INSERT INTO untracked SELECT g FROM generate_series(1, 20000) g ON CONFLICT DO NOTHING"_qs);
    const QString written = exec(u"SELECT pg_current_wal_lsn()::text"_qs);
    QTRY_VERIFY_WITH_TIMEOUT(exec(u"SELECT confirmed_flush_lsn >= '%1'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'rt_res_idle'"_qs
                                      .arg(written)) == u"t"_qs, 20000);
}

void TestRealtimeResume::lostSlotMeansResync()
{
    // max_slot_wal_keep_size can invalidate a slot; the server must recreate it and tell
    // clients to resync, never skip silently. A cluster of its own: the setting and the
    // checkpoints touch every slot of a cluster.
    auto dir = TestCluster::makeSharedTempDir();
    LocalCluster::Options o;
    o.dataDir = dir->filePath(u"data"_qs);
    o.socketDir = dir->filePath(u"run"_qs);
    o.logFile = dir->filePath(u"postgres.log"_qs);
    o.port = Scaffold::freePort(57000 + int(QCoreApplication::applicationPid() % 500), 59999);
    o.durable = false;
    o.extraSettings = {u"max_slot_wal_keep_size = '1MB'"_qs};
    auto cluster = LocalCluster::create(o);
    QVERIFY(cluster.ok());
    QVERIFY(cluster->start().ok());
    auto stopCluster = qScopeGuard([&cluster] { (void)cluster->stop(); });
    auto sql = [&cluster](const QString &text) {
        auto conn = PgConnection::open(cluster->conninfo());
        if (!conn)
            qFatal("%s", qPrintable(conn.error().toString()));
        auto r = conn->exec(text);
        if (!r)
            qFatal("SQL failed: %s", qPrintable(r.error().toString()));
        return r->rows() ? r->value(0, 0) : QString();
    };
    sql(u"CREATE EXTENSION pg_events; CREATE ROLE rt_user NOLOGIN; CREATE ROLE rt_auth LOGIN NOINHERIT; GRANT rt_user TO rt_auth; "
        "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text); "
        "GRANT SELECT ON items TO rt_user; SELECT pg_events.track('public.items')"_qs);
    ServerConfig config = baseConfig(m_db, u"rt_lost"_qs);
    config.databaseUrl = cluster->conninfo() + u" user=rt_auth"_qs;
    config.replicationUrl = cluster->conninfo();

    QString cursor;
    {
        auto first = startServer(config);
        auto c = RealtimeFixture::client(*first, userToken(u"u1"_qs));
        QVERIFY(c->subscribe({{u"id"_qs, u"l"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs) == u"subscribed"_qs);
        sql(u"INSERT INTO items (title) VALUES ('lost')"_qs);
        QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"l"_qs).size(), 1, 5000);
        cursor = c->messagesOfType(u"change"_qs, u"l"_qs).first().value(u"cursor"_qs).toString();
        first->shutdown();
    }
    sql(u"INSERT INTO items (title) VALUES ('lost')"_qs); // retained by the slot... until it is lost
    for (int i = 0; i < 5; ++i)
        sql(u"CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 5000) g; "
            "DROP TABLE filler; SELECT pg_switch_wal(); CHECKPOINT"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(sql(u"SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'rt_lost'"_qs), u"lost"_qs, 20000);

    auto second = startServer(config);
    auto c = RealtimeFixture::client(*second, userToken(u"u1"_qs));
    auto old = c->subscribe({{u"id"_qs, u"l"_qs}, {u"table"_qs, u"public.items"_qs}, {u"since"_qs, cursor}});
    QCOMPARE(old->value(u"code"_qs).toString(), u"cursor_too_old"_qs);
    QCOMPARE(old->value(u"id"_qs).toString(), u"l"_qs);
    // Subscribing fresh works, and new changes flow from the recreated slot.
    QCOMPARE(c->subscribe({{u"id"_qs, u"m"_qs}, {u"table"_qs, u"public.items"_qs}})->value(u"type"_qs).toString(), u"subscribed"_qs);
    sql(u"INSERT INTO items (title) VALUES ('after')"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"m"_qs).size(), 1, 5000);
    second.reset();
}

void TestRealtimeResume::survivesPostgresRestart()
{
    auto c = client(userToken(u"u1"_qs));
    QVERIFY(c->subscribe({{u"id"_qs, u"p"_qs}, {u"table"_qs, u"public.items"_qs}, {u"filter"_qs, u"title=eq.restart"_qs}})
                ->value(u"type"_qs) == u"subscribed"_qs);
    subscribeMarker(*c);
    exec(u"INSERT INTO items (title) VALUES ('restart')"_qs);
    QTRY_COMPARE_WITH_TIMEOUT(c->messagesOfType(u"change"_qs, u"p"_qs).size(), 1, 5000);
    LocalCluster &cluster = TestCluster::instance().cluster();
    // pg_ctl blocks; off this thread, so the in-process server keeps answering its walsender.
    auto offThread = [](const std::function<bool()> &step) {
        std::atomic<int> result{-1};
        std::thread t([&] { result = step() ? 1 : 0; });
        while (result.load() < 0)
            QTest::qWait(20);
        t.join();
        return result.load() == 1;
    };
    QVERIFY(offThread([&cluster] { return cluster.stop().ok(); }));
    QTRY_VERIFY_WITH_TIMEOUT(!m_server->isStreaming(), 5000);
    // Clients are served while PostgreSQL is away (reconnects happen off the event loop).
    QElapsedTimer answered;
    answered.start();
    QCOMPARE(c->request({{u"type"_qs, u"ping"_qs}}, u"pong"_qs, 1000)->value(u"type"_qs).toString(), u"pong"_qs);
    QVERIFY(answered.elapsed() < 500);
    QVERIFY(!m_server->isReady());
    QVERIFY(offThread([&cluster] { return cluster.start().ok(); }));
    QTRY_VERIFY_WITH_TIMEOUT(m_server->isStreaming() && m_server->isReady(), 20000);
    QCOMPARE(c->socket().state(), QAbstractSocket::ConnectedState); // clients stayed
    exec(u"INSERT INTO items (title) VALUES ('restart')"_qs);
    QVERIFY(waitForMarker(*c, m_db, 15000));
    QCOMPARE(c->messagesOfType(u"change"_qs, u"p"_qs).size(), 2); // resent history was dropped as duplicates
}

QTEST_GUILESS_MAIN(TestRealtimeResume)
#include "tst_realtimeresume.moc"
