#include "staticfileserver.h"

#include <QDir>
#include <QFile>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace Core;

// The dev frontend server: path resolution (no way out of the root), MIME types, HTTP.
class TestStaticFileServer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void resolve_data();
    void resolve();
    void mimeTypes_data();
    void mimeTypes();
    void http_data();
    void http();

private:
    QByteArray request(const QByteArray &raw);
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_root;
    std::unique_ptr<StaticFileServer> m_server;
};

static void write(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
}

void TestStaticFileServer::initTestCase()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_root = m_dir->filePath(u"frontend"_qs);
    write(m_root + u"/index.html"_qs, "<h1>home</h1>");
    write(m_root + u"/app.js"_qs, "export {};");
    write(m_root + u"/sub/index.html"_qs, "sub");
    write(m_root + u"/a b.css"_qs, "body{}");
    write(m_dir->filePath(u"secret.txt"_qs), "outside");
    QFile::link(m_dir->filePath(u"secret.txt"_qs), m_root + u"/link-out.txt"_qs);
    QFile::link(m_root + u"/app.js"_qs, m_root + u"/link-in.js"_qs);
    m_server = std::make_unique<StaticFileServer>(m_root);
    m_server->setDynamic(u"/config.js"_qs, "text/javascript; charset=utf-8", [] { return QByteArray("export default {};"); });
    QVERIFY(m_server->listen(QHostAddress::LocalHost, 0));
}

void TestStaticFileServer::resolve_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QString>("file"); // relative to the root; empty = refused / not found
    QTest::newRow("root") << QByteArray("/") << u"index.html"_qs;
    QTest::newRow("file") << QByteArray("/app.js") << u"app.js"_qs;
    QTest::newRow("folder index") << QByteArray("/sub/") << u"sub/index.html"_qs;
    QTest::newRow("percent-encoded space") << QByteArray("/a%20b.css") << u"a b.css"_qs;
    QTest::newRow("dot dot") << QByteArray("/../secret.txt") << QString();
    QTest::newRow("dot dot inside") << QByteArray("/sub/../../secret.txt") << QString();
    QTest::newRow("encoded dot dot") << QByteArray("/%2e%2e/secret.txt") << QString();
    QTest::newRow("encoded slash") << QByteArray("/..%2fsecret.txt") << QString();
    QTest::newRow("backslash") << QByteArray("/..\\secret.txt") << QString();
    QTest::newRow("nul") << QByteArray("/app.js%00.html") << QString();
    QTest::newRow("symlink out") << QByteArray("/link-out.txt") << QString();
    QTest::newRow("symlink in") << QByteArray("/link-in.js") << u"app.js"_qs;
    QTest::newRow("missing") << QByteArray("/nope.js") << QString();
    QTest::newRow("no leading slash") << QByteArray("app.js") << QString();
}

void TestStaticFileServer::resolve()
{
    QFETCH(QByteArray, path);
    QFETCH(QString, file);
    const QString got = StaticFileServer::resolve(m_root, path);
    QCOMPARE(got, file.isEmpty() ? QString() : QFileInfo(m_root + u'/' + file).canonicalFilePath());
}

void TestStaticFileServer::mimeTypes_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("type");
    QTest::newRow("html") << u"index.html"_qs << QByteArray("text/html; charset=utf-8");
    QTest::newRow("js") << u"app.js"_qs << QByteArray("text/javascript; charset=utf-8");
    QTest::newRow("mjs") << u"x.mjs"_qs << QByteArray("text/javascript; charset=utf-8");
    QTest::newRow("css") << u"s.CSS"_qs << QByteArray("text/css; charset=utf-8");
    QTest::newRow("svg") << u"i.svg"_qs << QByteArray("image/svg+xml");
    QTest::newRow("wasm") << u"m.wasm"_qs << QByteArray("application/wasm");
    QTest::newRow("unknown") << u"x.bin"_qs << QByteArray("application/octet-stream");
}

void TestStaticFileServer::mimeTypes()
{
    QFETCH(QString, file);
    QFETCH(QByteArray, type);
    QCOMPARE(StaticFileServer::mimeType(file), type);
}

QByteArray TestStaticFileServer::request(const QByteArray &raw)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, m_server->port());
    [&] { QVERIFY(s.waitForConnected(2000)); }();
    s.write(raw);
    QByteArray response;
    QElapsedTimer t;
    t.start();
    while (s.state() == QAbstractSocket::ConnectedState && t.elapsed() < 3000) {
        QTest::qWait(5);
        response += s.readAll();
    }
    return response + s.readAll();
}

void TestStaticFileServer::http_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QByteArray>("statusLine");
    QTest::addColumn<QByteArray>("mustContain");
    QTest::addColumn<QByteArray>("mustNotContain");
    QTest::newRow("GET /") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << QByteArray("HTTP/1.1 200 OK")
                           << QByteArray("<h1>home</h1>") << QByteArray("outside");
    QTest::newRow("no-store") << QByteArray("GET /app.js?v=1 HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 200 OK")
                              << QByteArray("Cache-Control: no-store") << QByteArray();
    QTest::newRow("HEAD has no body") << QByteArray("HEAD /index.html HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 200 OK")
                                      << QByteArray("Content-Length: 13") << QByteArray("<h1>");
    QTest::newRow("dynamic config.js") << QByteArray("GET /config.js HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 200 OK")
                                       << QByteArray("export default {};") << QByteArray();
    QTest::newRow("traversal") << QByteArray("GET /../secret.txt HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 404")
                               << QByteArray() << QByteArray("outside");
    QTest::newRow("404") << QByteArray("GET /nope HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 404") << QByteArray() << QByteArray();
    QTest::newRow("POST") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n") << QByteArray("HTTP/1.1 405")
                          << QByteArray("Allow: GET, HEAD") << QByteArray();
    QTest::newRow("folder without slash") << QByteArray("GET /sub HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 301")
                                          << QByteArray("Location: /sub/") << QByteArray();
    QTest::newRow("garbage") << QByteArray("HELLO\r\n\r\n") << QByteArray("HTTP/1.1 400") << QByteArray() << QByteArray();
}

void TestStaticFileServer::http()
{
    QFETCH(QByteArray, raw);
    QFETCH(QByteArray, statusLine);
    QFETCH(QByteArray, mustContain);
    QFETCH(QByteArray, mustNotContain);
    const QByteArray response = request(raw);
    QVERIFY2(response.startsWith(statusLine), response.constData());
    if (!mustContain.isEmpty())
        QVERIFY2(response.contains(mustContain), response.constData());
    if (!mustNotContain.isEmpty())
        QVERIFY2(!response.contains(mustNotContain), response.constData());
}

QTEST_GUILESS_MAIN(TestStaticFileServer)
#include "tst_staticfileserver.moc"
