#include "serverconfig.h"

#include "dotenv.h"
#include "jwtverifier.h"

#include <QFile>
#include <QRegularExpression>

#include <toml++/toml.h>

#include <functional>
#include <map>

namespace Realtime {

using Core::Error;

namespace {

// A raw setting before validation, with where it came from (for the error message).
struct Raw
{
    QString text;             // scalar as text
    QStringList list;         // arrays
    bool isList = false;
    QString where;            // "config.toml:3:8" or "environment PG_EVENTS_WS_SERVER_PORT"
};

Error bad(const Raw &raw, const QString &key, const QString &what)
{
    return Error::validation(u"%1: %2: %3 (got \"%4\")"_qs.arg(raw.where, key, what, raw.isList ? raw.list.join(u',') : raw.text));
}

} // namespace

Core::Result<ServerConfig> ServerConfig::load(const QString &file, const QString &envFile, const QProcessEnvironment &env)
{
    ServerConfig c;
    std::map<QString, Raw> raw; // "section.key" -> value

    if (!envFile.isEmpty()) {
        auto dotenv = Core::DotEnv::load(envFile);
        if (!dotenv)
            return dotenv.error();
        if (dotenv->contains(u"JWT_SECRET"_qs))
            raw[u"auth.jwt_secret"_qs] = {dotenv->value(u"JWT_SECRET"_qs), {}, false, envFile + u" JWT_SECRET"_qs};
        if (dotenv->contains(u"DATABASE_URL"_qs))
            raw[u"database.url"_qs] = {dotenv->value(u"DATABASE_URL"_qs), {}, false, envFile + u" DATABASE_URL"_qs};
    }

    if (!file.isEmpty()) {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly))
            return Error::io(u"cannot read configuration file %1: %2"_qs.arg(file, f.errorString()));
        const QByteArray text = f.readAll();
        toml::table root;
        try {
            root = toml::parse(std::string_view(text.constData(), size_t(text.size())));
        } catch (const toml::parse_error &e) {
            return Error::validation(u"%1:%2:%3: invalid TOML: %4"_qs.arg(file).arg(e.source().begin.line)
                                         .arg(e.source().begin.column).arg(QString::fromUtf8(e.description().data(), qsizetype(e.description().size()))));
        }
        for (const auto &[section, node] : root) {
            const auto *table = node.as_table();
            const QString s = QString::fromUtf8(section.str().data(), qsizetype(section.str().size()));
            if (!table)
                return Error::validation(u"%1:%2: [%3] must be a table"_qs.arg(file).arg(node.source().begin.line).arg(s));
            for (const auto &[key, value] : *table) {
                Raw r;
                r.where = u"%1:%2:%3"_qs.arg(file).arg(value.source().begin.line).arg(value.source().begin.column);
                if (const auto *arr = value.as_array()) {
                    r.isList = true;
                    for (const auto &el : *arr)
                        r.list << QString::fromStdString(el.value_or(std::string()));
                } else if (value.is_string()) {
                    r.text = QString::fromStdString(value.value_or(std::string()));
                } else if (value.is_integer()) {
                    r.text = QString::number(value.value_or(qint64(0)));
                } else if (value.is_boolean()) {
                    r.text = value.value_or(false) ? u"true"_qs : u"false"_qs;
                } else {
                    r.text = u"<unsupported value>"_qs;
                }
                raw[s + u'.' + QString::fromUtf8(key.str().data(), qsizetype(key.str().size()))] = r;
            }
        }
    }

    using Setter = std::function<std::optional<Error>(const Raw &, const QString &)>;
    auto str = [](QString &target, bool allowEmpty = true) -> Setter {
        return [&target, allowEmpty](const Raw &r, const QString &key) -> std::optional<Error> {
            if (r.isList || (!allowEmpty && r.text.isEmpty()))
                return bad(r, key, u"expected a non-empty string"_qs);
            target = r.text;
            return std::nullopt;
        };
    };
    auto integer = [](auto &target, qint64 min, qint64 max) -> Setter {
        return [&target, min, max](const Raw &r, const QString &key) -> std::optional<Error> {
            bool ok = false;
            const qint64 v = r.text.toLongLong(&ok);
            if (r.isList || !ok || v < min || v > max)
                return bad(r, key, u"expected a whole number from %1 to %2"_qs.arg(min).arg(max));
            target = static_cast<std::remove_reference_t<decltype(target)>>(v);
            return std::nullopt;
        };
    };
    auto list = [](QStringList &target) -> Setter {
        return [&target](const Raw &r, const QString &) -> std::optional<Error> {
            target = r.isList ? r.list : r.text.split(u',', Qt::SkipEmptyParts);
            for (QString &s : target)
                s = s.trimmed();
            return std::nullopt;
        };
    };
    qint64 maxAgeSeconds = c.window.maxAgeMs / 1000;
    QString secret;
    const std::map<QString, Setter> setters = {
        {u"server.host"_qs, str(c.host, false)},
        {u"server.port"_qs, integer(c.port, 1, 65535)},
        {u"server.allowed_origins"_qs, list(c.allowedOrigins)},
        {u"database.url"_qs, str(c.databaseUrl, false)},
        {u"database.replication_url"_qs, str(c.replicationUrl)},
        {u"database.batch_events"_qs, integer(c.batchEvents, 1, 1000000)},
        {u"database.max_queue_bytes"_qs, integer(c.maxQueueBytes, 1024 * 1024, 1LL << 40)},
        {u"database.chunk_events"_qs, integer(c.chunkEvents, 1, 1000000)},
        {u"database.slot"_qs, str(c.slot, false)},
        {u"database.pool_size"_qs, integer(c.poolSize, 1, 32)},
        {u"auth.jwt_secret"_qs, str(secret)},
        {u"auth.jwt_aud"_qs, str(c.jwtAudience)},
        {u"auth.role_claim_key"_qs, str(c.roleClaimKey, false)},
        {u"auth.anon_role"_qs, str(c.anonRole)},
        {u"auth.pre_request"_qs, str(c.preRequest)},
        {u"auth.search_path"_qs, str(c.searchPath)},
        {u"window.max_events"_qs, integer(c.window.maxEvents, 0, 100000000)},
        {u"window.max_bytes"_qs, integer(c.window.maxBytes, 0, 1LL << 40)},
        {u"window.max_age_seconds"_qs, integer(maxAgeSeconds, 0, 7 * 86400)},
        {u"limits.max_frame_bytes"_qs, integer(c.maxFrameBytes, 1024, 64 * 1024 * 1024)},
        {u"limits.max_message_bytes"_qs, integer(c.maxMessageBytes, 1024, 64 * 1024 * 1024)},
        {u"limits.max_subscriptions"_qs, integer(c.maxSubscriptions, 1, 100000)},
        {u"limits.max_outgoing_bytes"_qs, integer(c.maxOutgoingBytes, 1024, 1LL << 34)},
        {u"limits.handshake_timeout_ms"_qs, integer(c.handshakeTimeoutMs, 100, 600000)},
        {u"limits.max_connections"_qs, integer(c.maxConnections, 1, 1000000)},
        {u"limits.max_connections_per_ip"_qs, integer(c.maxConnectionsPerIp, 1, 1000000)},
        {u"limits.subscribe_wait_ms"_qs, integer(c.subscribeWaitMs, 100, 3600000)},
        {u"limits.max_replays_per_minute"_qs, integer(c.maxReplaysPerMinute, 1, 1000000)},
    };

    // Environment: PG_EVENTS_WS_SERVER_PORT -> server.port; DATABASE_URL and JWT_SECRET too.
    for (const auto &[key, setter] : setters) {
        const QString name = u"PG_EVENTS_WS_"_qs + QString(key).replace(u'.', u'_').toUpper();
        if (env.contains(name))
            raw[key] = {env.value(name), {}, false, u"environment "_qs + name};
    }
    if (env.contains(u"DATABASE_URL"_qs) && !env.contains(u"PG_EVENTS_WS_DATABASE_URL"_qs))
        raw[u"database.url"_qs] = {env.value(u"DATABASE_URL"_qs), {}, false, u"environment DATABASE_URL"_qs};
    if (env.contains(u"JWT_SECRET"_qs) && !env.contains(u"PG_EVENTS_WS_AUTH_JWT_SECRET"_qs))
        raw[u"auth.jwt_secret"_qs] = {env.value(u"JWT_SECRET"_qs), {}, false, u"environment JWT_SECRET"_qs};

    for (const auto &[key, value] : raw) {
        const auto it = setters.find(key);
        if (it == setters.end())
            return Error::validation(u"%1: unknown setting \"%2\""_qs.arg(value.where, key),
                                     u"See docs/PROTOCOL.md#configuration for the settings."_qs);
        if (auto e = it->second(value, key))
            return *e;
    }
    c.window.maxAgeMs = maxAgeSeconds * 1000;
    c.jwtSecret = secret.toUtf8();

    if (c.databaseUrl.isEmpty())
        return Error::validation(u"no database: set [database] url, DATABASE_URL, or pass --env-file with DATABASE_URL"_qs);
    if (c.jwtSecret.size() < Core::JwtVerifier::MinimumSecretLength)
        return Error::validation(u"the JWT secret is missing or shorter than %1 characters"_qs.arg(Core::JwtVerifier::MinimumSecretLength),
                                 u"Set JWT_SECRET (the same secret PostgREST uses) to 32 or more random characters."_qs);
    if (c.replicationUrl.isEmpty())
        c.replicationUrl = c.databaseUrl;
    static const QRegularExpression functionRe(u"^[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?$"_qs);
    if (!c.preRequest.isEmpty() && !functionRe.match(c.preRequest).hasMatch())
        return Error::validation(u"auth.pre_request \"%1\" is not a function name: write schema.function, as PostgREST's db-pre-request"_qs
                                     .arg(c.preRequest));
    static const QRegularExpression slotRe(u"^[a-z0-9_]{1,63}$"_qs);
    if (!slotRe.match(c.slot).hasMatch())
        return Error::validation(u"invalid replication slot name \"%1\": use a-z, 0-9 and _ (at most 63)"_qs.arg(c.slot));
    if (c.maxMessageBytes < c.maxFrameBytes)
        return Error::validation(u"limits.max_message_bytes (%1) must be at least limits.max_frame_bytes (%2)"_qs
                                     .arg(c.maxMessageBytes).arg(c.maxFrameBytes));
    return c;
}

} // namespace Realtime
