#include "staticfileserver.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

namespace Core {

static constexpr int MaxHeaderBytes = 16 * 1024;
static constexpr int RequestTimeoutMs = 10000;
static const char *const BufferProperty = "pgextRequest";

StaticFileServer::StaticFileServer(QString root, QObject *parent)
    : QObject(parent), m_root(QDir(root).absolutePath())
{
}

StaticFileServer::~StaticFileServer()
{
    close();
}

Status StaticFileServer::listen(const QHostAddress &address, quint16 port, const QString &portSetting)
{
    close();
    if (!QFileInfo(m_root).isDir())
        return Error::validation(u"frontend folder %1 does not exist"_qs.arg(m_root),
                                 u"Create it or set [frontend] dir in pgext.toml."_qs);
    m_server = new QTcpServer(this);
    if (!m_server->listen(address, port)) {
        const QString why = m_server->errorString();
        delete m_server;
        m_server = nullptr;
        return Error::make(Error::Kind::Process,
                           u"the frontend server cannot listen on %1:%2: %3"_qs.arg(address.toString()).arg(port).arg(why),
                           portSetting.isEmpty() ? u"Choose a free port."_qs
                                                 : u"Stop the program using it, or choose a free port: %1."_qs.arg(portSetting));
    }
    connect(m_server, &QTcpServer::newConnection, this, &StaticFileServer::onConnection);
    return {};
}

void StaticFileServer::close()
{
    if (m_server) {
        m_server->close();
        delete m_server;
        m_server = nullptr;
    }
}

quint16 StaticFileServer::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

bool StaticFileServer::isListening() const
{
    return m_server && m_server->isListening();
}

void StaticFileServer::setDynamic(const QString &path, const QByteArray &contentType, Generator body)
{
    m_dynamic.insert(path, {contentType, std::move(body)});
}

QByteArray StaticFileServer::mimeType(const QString &fileName)
{
    static const QHash<QString, QByteArray> types = {
        {u"html"_qs, "text/html; charset=utf-8"},
        {u"htm"_qs, "text/html; charset=utf-8"},
        {u"js"_qs, "text/javascript; charset=utf-8"},
        {u"mjs"_qs, "text/javascript; charset=utf-8"},
        {u"css"_qs, "text/css; charset=utf-8"},
        {u"json"_qs, "application/json"},
        {u"map"_qs, "application/json"},
        {u"txt"_qs, "text/plain; charset=utf-8"},
        {u"svg"_qs, "image/svg+xml"},
        {u"png"_qs, "image/png"},
        {u"jpg"_qs, "image/jpeg"},
        {u"jpeg"_qs, "image/jpeg"},
        {u"gif"_qs, "image/gif"},
        {u"webp"_qs, "image/webp"},
        {u"ico"_qs, "image/x-icon"},
        {u"woff"_qs, "font/woff"},
        {u"woff2"_qs, "font/woff2"},
        {u"wasm"_qs, "application/wasm"},
        {u"webmanifest"_qs, "application/manifest+json"},
    };
    return types.value(QFileInfo(fileName).suffix().toLower(), "application/octet-stream");
}

QString StaticFileServer::resolve(const QString &root, const QByteArray &urlPath, bool *isDirectoryWithoutSlash)
{
    if (isDirectoryWithoutSlash)
        *isDirectoryWithoutSlash = false;
    if (!urlPath.startsWith('/'))
        return {};
    // Slashes and backslashes hidden in escapes, NULs and dot segments never name a file.
    const QByteArray lower = urlPath.toLower();
    if (lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") || urlPath.contains('\\'))
        return {};
    const QString decoded = QUrl::fromPercentEncoding(urlPath);
    if (decoded.contains(QChar(0)) || decoded.contains(u'\\'))
        return {};
    const QStringList segments = decoded.split(u'/');
    for (const QString &seg : segments)
        if (seg == u".."_qs || seg == u"."_qs)
            return {};
    const QString canonicalRoot = QFileInfo(root).canonicalFilePath();
    if (canonicalRoot.isEmpty())
        return {};
    QString candidate = QDir(canonicalRoot).filePath(decoded.mid(1));
    QFileInfo info(candidate);
    if (info.isDir()) {
        if (!decoded.endsWith(u'/') && isDirectoryWithoutSlash) {
            *isDirectoryWithoutSlash = true;
            return {};
        }
        info = QFileInfo(QDir(candidate).filePath(u"index.html"_qs));
    }
    if (!info.isFile())
        return {};
    // Symlinks are fine as long as they stay inside the root.
    const QString canonical = info.canonicalFilePath();
    if (canonical.isEmpty() || !canonical.startsWith(canonicalRoot + u'/'))
        return {};
    return canonical;
}

void StaticFileServer::onConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QTimer::singleShot(RequestTimeoutMs, socket, [socket] { socket->abort(); socket->deleteLater(); });
    }
}

static QByteArray reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
    }
}

void StaticFileServer::respond(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
                               bool head, const QList<QByteArray> &extraHeaders)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) + "\r\n";
    out += "Content-Type: " + contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n";
    for (const QByteArray &h : extraHeaders)
        out += h + "\r\n";
    out += "\r\n";
    if (!head)
        out += body;
    socket->write(out);
    socket->disconnectFromHost();
}

void StaticFileServer::onReadable(QTcpSocket *socket)
{
    QByteArray buffer = socket->property(BufferProperty).toByteArray() + socket->readAll();
    socket->setProperty(BufferProperty, buffer);
    if (socket->property("pgextAnswered").toBool())
        return;
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0) {
        if (buffer.size() > MaxHeaderBytes) {
            socket->setProperty("pgextAnswered", true);
            respond(socket, 431, "text/plain; charset=utf-8", "request headers too large\n", false);
        }
        return;
    }
    socket->setProperty("pgextAnswered", true);
    const QList<QByteArray> requestLine = buffer.left(buffer.indexOf("\r\n")).split(' ');
    if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1.")) {
        respond(socket, 400, "text/plain; charset=utf-8", "bad request\n", false);
        return;
    }
    const QByteArray method = requestLine[0];
    QByteArray target = requestLine[1];
    const bool head = method == "HEAD";
    auto served = [&](int status) {
        Q_EMIT requestServed(QString::fromLatin1(method), QString::fromUtf8(target), status);
    };
    if (method != "GET" && !head) {
        respond(socket, 405, "text/plain; charset=utf-8", "method not allowed\n", false, {"Allow: GET, HEAD"});
        served(405);
        return;
    }
    if (const qsizetype q = target.indexOf('?'); q >= 0)
        target.truncate(q);
    if (const qsizetype h = target.indexOf('#'); h >= 0)
        target.truncate(h);
    const QString path = QString::fromUtf8(target);
    if (auto it = m_dynamic.constFind(path); it != m_dynamic.constEnd()) {
        respond(socket, 200, it->contentType, it->body(), head);
        served(200);
        return;
    }
    bool redirect = false;
    const QString file = resolve(m_root, target, &redirect);
    if (redirect) {
        respond(socket, 301, "text/plain; charset=utf-8", "moved\n", head, {"Location: " + target + '/'});
        served(301);
        return;
    }
    QFile f(file);
    if (file.isEmpty() || !f.open(QIODevice::ReadOnly)) {
        respond(socket, 404, "text/plain; charset=utf-8", "not found\n", head);
        served(404);
        return;
    }
    respond(socket, 200, mimeType(file), f.readAll(), head);
    served(200);
}

} // namespace Core
