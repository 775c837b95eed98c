// Filter before RLS, measured: 1,000 subscribers (10 per user) each with user_id=eq.<own>
// on an RLS table, 10,000 rows over 100 users. The same server code, once asking
// PostgreSQL about every row of a batch for every identity and filtering afterwards
// ("before"), once filtering first ("after"). Prints a table.
//
//   build/bench/rls_filter_bench [rows]
#include "realtimefixture.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTest>
#include <QWebSocket>

#include <cstdio>

using namespace Realtime;
using namespace RealtimeFixture;

namespace {

struct Result
{
    qint64 messages = 0;
    qint64 rowsChecked = 0;
    qint64 rounds = 0;
    double seconds = 0;
};

Result run(const QString &db, bool filterFirst, int rows, int users, int perUser, const QString &slot)
{
    ServerConfig config = baseConfig(db, slot);
    config.filterBeforeRls = filterFirst;
    config.maxConnectionsPerIp = 100000;
    auto server = startServer(config);
    qint64 received = 0;
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    int subscribed = 0;
    for (int u = 0; u < users; ++u) {
        for (int k = 0; k < perUser; ++k) {
            auto s = std::make_unique<QWebSocket>();
            QWebSocket *raw = s.get();
            const QString user = u"user%1"_qs.arg(u);
            QObject::connect(raw, &QWebSocket::textMessageReceived, raw, [raw, user, &received, &subscribed](const QString &text) {
                if (text.startsWith(u"{\"type\":\"change\""_qs))
                    ++received;
                else if (text.contains(u"\"welcome\""_qs))
                    raw->sendTextMessage(QString::fromUtf8(QJsonDocument(QJsonObject{{u"type"_qs, u"auth"_qs}, {u"token"_qs, userToken(user)}}).toJson(QJsonDocument::Compact)));
                else if (text.contains(u"\"auth_ok\""_qs))
                    raw->sendTextMessage(QString::fromUtf8(QJsonDocument(QJsonObject{{u"type"_qs, u"subscribe"_qs}, {u"id"_qs, u"n"_qs},
                        {u"table"_qs, u"public.notes"_qs}, {u"filter"_qs, u"user_id=eq.%1"_qs.arg(user)}}).toJson(QJsonDocument::Compact)));
                else if (text.contains(u"\"subscribed\""_qs))
                    ++subscribed;
                else if (text.contains(u"\"error\""_qs))
                    std::fprintf(stderr, "error: %s\n", qPrintable(text));
            });
            raw->open(url(*server));
            sockets.push_back(std::move(s));
        }
        // In waves of a hundred: the load generator should not be what limits the run.
        if (u % 10 == 9) {
            QElapsedTimer wave;
            wave.start();
            while (subscribed < (u + 1) * perUser && wave.elapsed() < 30000)
                QTest::qWait(5);
        }
    }
    QElapsedTimer wait;
    wait.start();
    while (subscribed < users * perUser && wait.elapsed() < 120000)
        QTest::qWait(10);
    if (subscribed < users * perUser) {
        int open = 0;
        for (const auto &s : sockets)
            open += s->state() == QAbstractSocket::ConnectedState;
        qFatal("only %d subscribers; %d sockets connected", subscribed, open);
    }
    const auto before = server->pipeline().stats();
    // `rows` rows in transactions of 10, users round-robin, committed as fast as possible.
    exec(db, u"DO $$ BEGIN FOR t IN 0..%1 LOOP INSERT INTO notes (user_id, body) "
             "SELECT 'user' || ((t * 10 + g) % %2), 'row' FROM generate_series(0, 9) g; COMMIT; END LOOP; END $$"_qs
                 .arg(rows / 10 - 1).arg(users));
    QElapsedTimer clock;
    clock.start();
    const qint64 expected = qint64(rows) * perUser;
    while (received < expected && clock.elapsed() < 600000)
        QTest::qWait(1);
    Result r;
    r.seconds = clock.elapsed() / 1000.0;
    r.messages = received;
    r.rowsChecked = server->pipeline().stats().rowsChecked - before.rowsChecked;
    r.rounds = server->pipeline().stats().checkRounds - before.checkRounds;
    sockets.clear();
    server.reset();
    exec(db, u"SELECT pg_drop_replication_slot('%1')"_qs.arg(slot));
    return r;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const int rows = argc > 1 ? QString::fromLatin1(argv[1]).toInt() : 10000;
    const int users = 100, perUser = 10;
    const QString db = createDatabase(u"rlsbench"_qs);
    exec(db, uR"(
        CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id text NOT NULL, body text);
        ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own ON public.notes FOR SELECT TO rt_user
            USING (user_id = (current_setting('request.jwt.claims', true)::json ->> 'sub'));
        GRANT SELECT ON public.notes TO rt_user;
        SELECT pg_events.track('public.notes');
    )"_qs);
    const Result before = run(db, false, rows, users, perUser, u"rls_bench_before"_qs);
    const Result after = run(db, true, rows, users, perUser, u"rls_bench_after"_qs);
    std::printf("\n%d subscribers (%d users x %d), user_id=eq.<own> on an RLS table, %d rows in transactions of 10\n\n",
                users * perUser, users, perUser, rows);
    std::printf("| mode                            | messages | rows checked by PostgreSQL | check round trips | seconds | msgs/s  |\n");
    std::printf("|---------------------------------|---------:|---------------------------:|------------------:|--------:|--------:|\n");
    for (const auto &[name, r] : {std::pair{"RLS check, then filter (before)", before}, std::pair{"filter, then RLS check (after)", after}})
        std::printf("| %-31s | %8lld | %26lld | %17lld | %7.2f | %7.0f |\n", name, r.messages, r.rowsChecked, r.rounds, r.seconds,
                    r.messages / std::max(r.seconds, 0.001));
    std::printf("\nrows checked: %.1fx fewer; msgs/s: %.2fx\n", double(before.rowsChecked) / std::max<qint64>(1, after.rowsChecked),
                (after.messages / std::max(after.seconds, 0.001)) / (before.messages / std::max(before.seconds, 0.001)));
    return 0;
}
