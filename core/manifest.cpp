#include "manifest.h"

#include <QFile>
#include <QRegularExpression>

#include <toml++/toml.h>

#include <functional>
#include <map>

namespace Core {

namespace {

struct Reader
{
    QString fileName;
    std::optional<Error> error;

    Error at(const toml::source_region &src, const QString &key, const QString &message,
             const QString &hint = {})
    {
        Error e = Error::validation(key.isEmpty() ? message : key + u": "_qs + message, hint);
        e.file = fileName;
        e.line = int(src.begin.line);
        e.column = int(src.begin.column);
        return e;
    }
    void fail(Error e)
    {
        if (!error)
            error = std::move(e);
    }
};

QString str(std::string_view v) { return QString::fromUtf8(v.data(), qsizetype(v.size())); }

} // namespace

Result<Manifest> Manifest::parse(const QString &text, const QString &fileName)
{
    const QByteArray utf8 = text.toUtf8();
    toml::table root;
    try {
        root = toml::parse(std::string_view(utf8.constData(), size_t(utf8.size())),
                           std::string_view(fileName.toStdString()));
    } catch (const toml::parse_error &err) {
        Error e = Error::validation(u"invalid TOML: "_qs + str(err.description()),
                                    u"See https://toml.io for the syntax."_qs);
        e.file = fileName;
        e.line = int(err.source().begin.line);
        e.column = int(err.source().begin.column);
        return e;
    }

    Manifest m;
    Reader r{fileName, {}};

    using Handler = std::function<void(const toml::node &, const QString &key)>;
    auto stringInto = [&r](QString &target, bool allowEmpty = false) -> Handler {
        return [&r, &target, allowEmpty](const toml::node &n, const QString &key) {
            if (!n.is_string()) {
                r.fail(r.at(n.source(), key, u"expected a string"_qs));
                return;
            }
            target = str(n.as_string()->get());
            if (!allowEmpty && target.isEmpty())
                r.fail(r.at(n.source(), key, u"must not be empty"_qs));
        };
    };
    auto portInto = [&r](int &target) -> Handler {
        return [&r, &target](const toml::node &n, const QString &key) {
            const auto *v = n.as_integer();
            if (!v || v->get() < 1024 || v->get() > 65535) {
                r.fail(r.at(n.source(), key, u"expected a port number between 1024 and 65535"_qs));
                return;
            }
            target = int(v->get());
        };
    };
    auto nameInto = [&r](QString &target, const QString &what) -> Handler {
        return [&r, &target, what](const toml::node &n, const QString &key) {
            static const QRegularExpression re(u"^[A-Za-z_][A-Za-z0-9_-]{0,62}$"_qs);
            if (!n.is_string() || !re.match(str(n.as_string()->get())).hasMatch()) {
                r.fail(r.at(n.source(), key,
                            u"expected %1: letters, digits, '_' or '-', starting with a letter, at most 63 characters"_qs.arg(what)));
                return;
            }
            target = str(n.as_string()->get());
        };
    };
    auto tablesInto = [&r](QStringList &target) -> Handler {
        return [&r, &target](const toml::node &n, const QString &key) {
            static const QRegularExpression re(u"^[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*$"_qs);
            const auto *arr = n.as_array();
            if (!arr) {
                r.fail(r.at(n.source(), key, u"expected an array of \"schema.table\" strings"_qs));
                return;
            }
            for (const toml::node &el : *arr) {
                if (!el.is_string() || !re.match(str(el.as_string()->get())).hasMatch()) {
                    r.fail(r.at(el.source(), key, u"expected \"schema.table\""_qs,
                                u"Write tables schema-qualified, e.g. \"public.tasks\"."_qs));
                    return;
                }
                target << str(el.as_string()->get());
            }
        };
    };

    const std::map<QString, std::map<QString, Handler>> schema = {
        {u"project"_qs, {
            {u"name"_qs, nameInto(m.name, u"a project name"_qs)},
            {u"template"_qs, stringInto(m.templateName)},
        }},
        {u"database"_qs, {
            {u"name"_qs, nameInto(m.databaseName, u"a database name"_qs)},
            {u"port"_qs, portInto(m.localPort)},
            {u"url"_qs, stringInto(m.databaseUrl)},
            {u"schema"_qs, stringInto(m.schemaFile)},
            {u"migrations"_qs, stringInto(m.migrationsDir)},
            {u"functions"_qs, stringInto(m.functionsDir)},
        }},
        {u"postgres"_qs, {
            {u"bin_dir"_qs, stringInto(m.postgresBinDir)},
        }},
        {u"realtime"_qs, {
            {u"tables"_qs, tablesInto(m.realtimeTables)},
            {u"port"_qs, portInto(m.realtimePort)},
            {u"slot"_qs, nameInto(m.realtimeSlot, u"a replication slot name"_qs)},
        }},
        {u"postgrest"_qs, {
            {u"port"_qs, portInto(m.postgrestPort)},
            {u"config"_qs, stringInto(m.postgrestConfig)},
        }},
        {u"frontend"_qs, {
            {u"dir"_qs, stringInto(m.frontendDir)},
            {u"port"_qs, portInto(m.frontendPort)},
            {u"deploy_dir"_qs, stringInto(m.frontendDeployDir)},
        }},
    };

    auto known = [](const auto &map) {
        QStringList names;
        for (const auto &[k, v] : map)
            names << k;
        return names.join(u", "_qs);
    };

    for (const auto &[rawKey, node] : root) {
        const QString section = str(rawKey.str());
        const auto it = schema.find(section);
        if (it == schema.end()) {
            r.fail(r.at(rawKey.source(), section, u"unknown section"_qs,
                        u"Known sections: %1."_qs.arg(known(schema))));
            continue;
        }
        const auto *table = node.as_table();
        if (!table) {
            r.fail(r.at(node.source(), section, u"expected a table ([%1])"_qs.arg(section)));
            continue;
        }
        for (const auto &[rawSub, value] : *table) {
            const QString key = str(rawSub.str());
            const QString full = section + u'.' + key;
            const auto h = it->second.find(key);
            if (h == it->second.end()) {
                r.fail(r.at(rawSub.source(), full, u"unknown key"_qs,
                            u"Known keys in [%1]: %2."_qs.arg(section, known(it->second))));
                continue;
            }
            h->second(value, full);
        }
    }
    if (r.error)
        return *r.error;

    auto missing = [&](const QString &key) {
        Error e = Error::validation(key + u": required key is missing"_qs,
                                    u"Add it to pgext.toml, e.g. `pgext init` writes a complete file."_qs);
        e.file = fileName;
        return e;
    };
    if (m.name.isEmpty())
        return missing(u"project.name"_qs);
    if (m.databaseName.isEmpty())
        return missing(u"database.name"_qs);
    if (m.realtimeSlot.isEmpty())
        m.realtimeSlot = u"pgext_"_qs + QString(m.name).replace(u'-', u'_');
    return m;
}

Result<Manifest> Manifest::load(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error::io(u"cannot read %1: %2"_qs.arg(path, f.errorString()),
                         u"Run the command inside a pgext project (created with `pgext init`), or pass --project."_qs);
    return parse(QString::fromUtf8(f.readAll()), path);
}

QString Manifest::toToml() const
{
    auto q = [](const QString &s) -> QString {
        QString e = s;
        e.replace(u'\\', u"\\\\"_qs).replace(u'"', u"\\\""_qs);
        return u'"' + e + u'"';
    };
    QStringList tables;
    for (const QString &t : realtimeTables)
        tables << q(t);
    QString out;
    out += u"# pgext project manifest. Reference: docs/PROJECT.md\n\n"_qs;
    out += u"[project]\nname = %1\n"_qs.arg(q(name));
    if (!templateName.isEmpty())
        out += u"template = %1\n"_qs.arg(q(templateName));
    out += u"\n[database]\n# Database on the project's local cluster (.pgext/), reached on 127.0.0.1:port\n"_qs;
    out += u"name = %1\nport = %2\n"_qs.arg(q(databaseName)).arg(localPort);
    out += u"# url = \"postgresql://user:password@host:5432/db\"  # use another database instead\n"_qs;
    out += u"schema = %1\nmigrations = %2\nfunctions = %3\n"_qs.arg(q(schemaFile), q(migrationsDir), q(functionsDir));
    out += u"\n[realtime]\n# Tables streamed by pg_events to pg_events_ws clients\n"_qs;
    out += u"tables = [%1]\nport = %2\n"_qs.arg(tables.join(u", "_qs)).arg(realtimePort);
    out += u"\n[postgrest]\nport = %1\nconfig = %2\n"_qs.arg(postgrestPort).arg(q(postgrestConfig));
    out += u"\n[frontend]\ndir = %1\nport = %2\n"_qs.arg(q(frontendDir)).arg(frontendPort);
    return out;
}

} // namespace Core
