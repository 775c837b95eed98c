#pragma once

#include "server.h"
#include "testcluster.h"
#include "wsclient.h"

#include <QJsonObject>
#include <QString>

#include <memory>

// What every realtime database test needs: a database with pg_events, roles set up the
// way PostgREST wants them (an authenticator that may switch only to its granted roles),
// the real server in-process connected as that authenticator (replication as the
// superuser), real WebSocket clients, and markers to assert "nothing else arrived".
namespace RealtimeFixture {

extern const QByteArray Secret;

QString mint(const QJsonObject &claims, const QByteArray &secret = Secret, const QByteArray &alg = "HS256");
// A token for `role` with sub = `sub`, valid for an hour.
QString userToken(const QString &sub, const QString &role = u"rt_user"_qs);

// A fresh database with pg_events and the roles rt_auth (LOGIN NOINHERIT, granted rt_user
// and rt_other), rt_user, rt_other, rt_anon.
QString createDatabase(const QString &prefix);
// Runs SQL as the superuser; returns the first value of the last result.
QString exec(const QString &database, const QString &sql);
Realtime::ServerConfig baseConfig(const QString &database, const QString &slot);
// Waits until it streams and has caught up with its slot.
std::unique_ptr<Realtime::Server> startServer(const Realtime::ServerConfig &config);
std::unique_ptr<WsClient> client(const Realtime::Server &server, const QString &token = {});
QUrl url(const Realtime::Server &server);

// Subscribes `c` to the channel "marker" (once per client): emit it last, wait for it,
// and everything committed before it has been delivered.
void subscribeMarker(WsClient &c);
// Emits a marker in its own transaction after everything committed so far and waits
// until `c` receives it.
bool waitForMarker(WsClient &c, const QString &database, int ms = 10000);

} // namespace RealtimeFixture
