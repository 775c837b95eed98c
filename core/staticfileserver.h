#pragma once

#include "result.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>

#include <functional>

class QTcpServer;
class QTcpSocket;

namespace Core {

// A small HTTP/1.1 server for a project's frontend/ during development: GET and HEAD,
// index.html for folders, MIME types by extension, no way out of the root folder
// (.. segments, encoded slashes and symlinks leading outside are refused), 404s, and
// Cache-Control: no-store so a reload always shows the saved files. One request per
// connection. Dynamic routes (e.g. /config.js) take precedence over files.
class StaticFileServer : public QObject
{
    Q_OBJECT
public:
    explicit StaticFileServer(QString root, QObject *parent = nullptr);
    ~StaticFileServer() override;

    Status listen(const QHostAddress &address, quint16 port, const QString &portSetting = {});
    void close();
    quint16 port() const;
    bool isListening() const;
    const QString &root() const { return m_root; }

    using Generator = std::function<QByteArray()>;
    void setDynamic(const QString &path, const QByteArray &contentType, Generator body);

    static QByteArray mimeType(const QString &fileName);
    // The file `urlPath` names under `root`, or an empty string (not found / refused).
    static QString resolve(const QString &root, const QByteArray &urlPath, bool *isDirectoryWithoutSlash = nullptr);

Q_SIGNALS:
    void requestServed(const QString &method, const QString &path, int status);

private:
    void onConnection();
    void onReadable(QTcpSocket *socket);
    void respond(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
                 bool head, const QList<QByteArray> &extraHeaders = {});

    QString m_root;
    QTcpServer *m_server = nullptr;
    struct Dynamic { QByteArray contentType; Generator body; };
    QHash<QString, Dynamic> m_dynamic;
};

} // namespace Core
