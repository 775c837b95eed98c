#include "connectionsettings.h"

#include "localcluster.h"
#include "project.h"

#include <QRegularExpression>
#include <QUrl>

#include <libpq-fe.h>

namespace Core {

QString ConnectionSettings::sourceName(Source source)
{
    switch (source) {
    case Source::Flag: return u"--database-url"_qs;
    case Source::Environment: return u"DATABASE_URL (environment)"_qs;
    case Source::DotEnv: return u"DATABASE_URL (.env)"_qs;
    case Source::Manifest: return u"[database] url (pgext.toml)"_qs;
    case Source::LocalCluster: return u"local cluster (.pgext)"_qs;
    }
    return {};
}

QString ConnectionSettings::maskPassword(const QString &conninfo)
{
    QString masked = conninfo;
    static const QRegularExpression uri(u"^(postgres(?:ql)?://[^:/@]*:)([^@]*)(@)"_qs);
    masked.replace(uri, u"\\1****\\3"_qs);
    static const QRegularExpression kv(u"(password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|\\S+)"_qs);
    masked.replace(kv, u"\\1****"_qs);
    return masked;
}

static Result<ConnectionSettings> fromUrl(const QString &url, ConnectionSettings::Source source)
{
    const QByteArray text = url.toUtf8();
    char *err = nullptr;
    PQconninfoOption *opts = PQconninfoParse(text.constData(), &err);
    if (!opts) {
        const QString why = err ? QString::fromUtf8(err).trimmed() : u"unparsable"_qs;
        PQfreemem(err);
        return Error::validation(u"invalid database URL from %1: %2"_qs.arg(ConnectionSettings::sourceName(source), why),
                                 u"Use postgresql://user:password@host:port/database or key=value pairs."_qs);
    }
    ConnectionSettings s;
    s.source = source;
    s.conninfo = url;
    s.display = ConnectionSettings::maskPassword(url);
    for (PQconninfoOption *o = opts; o->keyword; ++o)
        if (qstrcmp(o->keyword, "dbname") == 0 && o->val)
            s.databaseName = QString::fromUtf8(o->val);
    PQconninfoFree(opts);
    if (s.databaseName.isEmpty())
        s.databaseName = qEnvironmentVariable("PGDATABASE", qEnvironmentVariable("USER"));
    return s;
}

Result<ConnectionSettings> ConnectionSettings::resolve(const Project *project, const QString &flagUrl,
                                                       const QProcessEnvironment &env)
{
    if (!flagUrl.isEmpty())
        return fromUrl(flagUrl, Source::Flag);
    if (env.contains(u"DATABASE_URL"_qs) && !env.value(u"DATABASE_URL"_qs).isEmpty())
        return fromUrl(env.value(u"DATABASE_URL"_qs), Source::Environment);
    if (!project)
        return Error::validation(u"no database to connect to"_qs,
                                 u"Run inside a pgext project, set DATABASE_URL, or pass --database-url."_qs);
    if (!project->env().value(u"DATABASE_URL"_qs).isEmpty())
        return fromUrl(project->env().value(u"DATABASE_URL"_qs), Source::DotEnv);
    if (!project->manifest().databaseUrl.isEmpty())
        return fromUrl(project->manifest().databaseUrl, Source::Manifest);
    auto cluster = LocalCluster::forProject(*project);
    if (!cluster)
        return cluster.error();
    ConnectionSettings s;
    s.source = Source::LocalCluster;
    s.databaseName = project->manifest().databaseName;
    s.conninfo = cluster->conninfo(s.databaseName);
    s.display = cluster->url(s.databaseName);
    return s;
}

Result<QString> ConnectionSettings::conninfoForDatabase(const QString &database) const
{
    const QByteArray text = conninfo.toUtf8();
    char *err = nullptr;
    PQconninfoOption *opts = PQconninfoParse(text.constData(), &err);
    if (!opts) {
        PQfreemem(err);
        return Error::validation(u"invalid connection settings"_qs);
    }
    QStringList parts;
    auto quote = [](QString v) -> QString {
        v.replace(u'\\', u"\\\\"_qs).replace(u'\'', u"\\'"_qs);
        return u'\'' + v + u'\'';
    };
    for (PQconninfoOption *o = opts; o->keyword; ++o) {
        if (qstrcmp(o->keyword, "dbname") == 0 || !o->val)
            continue;
        parts << QString::fromUtf8(o->keyword) + u'=' + quote(QString::fromUtf8(o->val));
    }
    PQconninfoFree(opts);
    parts << u"dbname="_qs + quote(database);
    return parts.join(u' ');
}

} // namespace Core
