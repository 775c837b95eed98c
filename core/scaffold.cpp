#include "scaffold.h"

#include "manifest.h"
#include "project.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTcpServer>
#include <QTimeZone>

namespace Core {

static const QString TemplateRoot = u":/templates"_qs;

QStringList Scaffold::templates()
{
    return QDir(TemplateRoot).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
}

QString Scaffold::generateSecret(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

int Scaffold::freePort(int from, int to)
{
    for (int port = from; port <= to; ++port) {
        QTcpServer probe;
        if (probe.listen(QHostAddress::LocalHost, quint16(port)))
            return port;
    }
    return 0;
}

static QString substitute(QString text, const QHash<QString, QString> &vars)
{
    for (auto it = vars.constBegin(); it != vars.constEnd(); ++it)
        text.replace(u"{{"_qs + it.key() + u"}}"_qs, it.value());
    return text;
}

Status Scaffold::initProject(const QString &directory, const QString &name, const QString &templateName)
{
    static const QRegularExpression nameRe(u"^[a-z][a-z0-9_-]{0,62}$"_qs);
    if (!nameRe.match(name).hasMatch())
        return Error::validation(u"invalid project name \"%1\""_qs.arg(name),
                                 u"Use lower-case letters, digits, '_' or '-', starting with a letter (at most 63)."_qs);
    if (!templates().contains(templateName))
        return Error::validation(u"unknown template \"%1\""_qs.arg(templateName),
                                 u"Available templates: %1."_qs.arg(templates().join(u", "_qs)));
    const QFileInfo target(directory);
    if (target.exists() && (!target.isDir() || !QDir(directory).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden)))
        return Error::validation(u"%1 already exists and is not empty"_qs.arg(target.absoluteFilePath()),
                                 u"Choose another name or folder; pgext init never overwrites files."_qs);
    const QString parent = target.absolutePath();
    if (!QDir().mkpath(parent) || !QFileInfo(parent).isWritable())
        return Error::io(u"cannot write to %1"_qs.arg(parent));

    const QString database = QString(name).replace(u'-', u'_');
    Manifest m;
    m.name = name;
    m.templateName = templateName;
    m.databaseName = database;
    m.localPort = freePort(54330, 54399);
    if (m.localPort == 0)
        m.localPort = 54330;
    m.realtimeTables = {u"public.tasks"_qs};
    m.realtimeSlot = u"pgext_"_qs + database;

    QHash<QString, QString> vars;
    vars.insert(u"project_name"_qs, name);
    vars.insert(u"database_name"_qs, database);
    vars.insert(u"jwt_secret"_qs, generateSecret(48));
    vars.insert(u"postgres_password"_qs, generateSecret(24));
    vars.insert(u"port"_qs, QString::number(m.localPort));
    vars.insert(u"postgrest_port"_qs, QString::number(m.postgrestPort));
    vars.insert(u"realtime_port"_qs, QString::number(m.realtimePort));

    // Build beside the target, then rename: an interrupted init leaves nothing behind.
    const QString staging = QDir(parent).filePath(u".pgext-init-%1-%2"_qs.arg(name).arg(QRandomGenerator::system()->generate()));
    auto cleanup = qScopeGuard([&] { QDir(staging).removeRecursively(); });
    const QString source = TemplateRoot + u'/' + templateName;
    QDirIterator it(source, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        QString rel = QDir(source).relativeFilePath(file);
        if (rel.startsWith(u".pgext/"_qs))
            continue; // generator templates for `pgext new`, not project files
        if (rel == u"env.template"_qs)
            rel = u".env"_qs;
        else if (rel == u"gitignore.template"_qs)
            rel = u".gitignore"_qs;
        const QString out = QDir(staging).filePath(rel);
        QDir().mkpath(QFileInfo(out).absolutePath());
        if (rel.endsWith(u".keep"_qs))
            continue; // keeps empty folders in the resource tree
        QFile in(file);
        if (!in.open(QIODevice::ReadOnly))
            return Error::io(u"cannot read template file %1"_qs.arg(file));
        QFile dst(out);
        if (!dst.open(QIODevice::WriteOnly))
            return Error::io(u"cannot write %1: %2"_qs.arg(out, dst.errorString()));
        dst.write(substitute(QString::fromUtf8(in.readAll()), vars).toUtf8());
        if (rel == u".env"_qs)
            dst.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
    }
    // Every frontend gets the protocol v1 client from its one canonical source.
    const QString client = QDir(staging).filePath(u"frontend/pg_events_ws.js"_qs);
    if (QDir(QDir(staging).filePath(u"frontend"_qs)).exists() && !QFileInfo::exists(client)
        && !QFile::copy(u":/js/pg_events_ws.js"_qs, client))
        return Error::io(u"cannot write %1"_qs.arg(client));
    QFile::setPermissions(client, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    // A template may ship its own manifest (e.g. to name the tables it streams); it must
    // still be valid once filled in.
    const QString manifestPath = QDir(staging).filePath(u"pgext.toml"_qs);
    if (QFileInfo::exists(manifestPath)) {
        if (auto check = Manifest::load(manifestPath); !check)
            return Error::validation(u"template %1 has an invalid pgext.toml: %2"_qs.arg(templateName, check.error().headline()));
    } else {
        QFile manifest(manifestPath);
        if (!manifest.open(QIODevice::WriteOnly))
            return Error::io(u"cannot write %1"_qs.arg(manifest.fileName()));
        manifest.write(m.toToml().toUtf8());
    }
    if (target.exists())
        QDir().rmdir(directory);
    if (!QDir().rename(staging, directory))
        return Error::io(u"cannot move the new project into %1"_qs.arg(directory));
    cleanup.dismiss();
    return {};
}

static Result<QString> writeNew(const QString &path, const QString &content)
{
    if (QFileInfo::exists(path))
        return Error::validation(u"%1 already exists"_qs.arg(path), u"Choose another name."_qs);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::NewOnly))
        return Error::io(u"cannot create %1: %2"_qs.arg(path, f.errorString()));
    f.write(content.toUtf8());
    return path;
}

static Status checkName(const QString &name, const QString &what)
{
    static const QRegularExpression re(u"^[a-z_][a-z0-9_]{0,62}$"_qs);
    if (!re.match(name).hasMatch())
        return Error::validation(u"invalid %1 name \"%2\""_qs.arg(what, name),
                                 u"Use lower-case letters, digits and '_', starting with a letter (at most 63)."_qs);
    return {};
}

Result<QString> Scaffold::newMigration(const Project &project, const QString &name)
{
    if (Status s = checkName(name, u"migration"_qs); !s)
        return s.error();
    const QDir dir(project.path(project.manifest().migrationsDir));
    // Versions must be unique and increasing: step past the newest existing one.
    QDateTime stamp = QDateTime::currentDateTimeUtc();
    const QStringList existing = dir.entryList({u"*.sql"_qs}, QDir::Files, QDir::Name);
    if (!existing.isEmpty()) {
        const QDateTime newest = QDateTime::fromString(existing.last().left(14), u"yyyyMMddHHmmss"_qs);
        if (newest.isValid()) {
            QDateTime newestUtc = newest;
            newestUtc.setTimeZone(QTimeZone::utc());
            if (stamp <= newestUtc)
                stamp = newestUtc.addSecs(1);
        }
    }
    const QString version = stamp.toString(u"yyyyMMddHHmmss"_qs);
    const QString file = dir.filePath(version + u'_' + name + u".sql"_qs);
    return writeNew(file, u"-- Migration %1: %2\n-- Runs once, in its own transaction. Put `-- pgext:no-transaction` on the\n"
                          "-- first line for statements such as CREATE INDEX CONCURRENTLY.\n\n"_qs.arg(version, name));
}

// The project's template may bring its own generator (resources/templates/<t>/.pgext/<kind>.sql).
static QString generator(const Project &project, const QString &kind)
{
    QFile f(TemplateRoot + u'/' + project.manifest().templateName + u"/.pgext/"_qs + kind + u".sql"_qs);
    if (project.manifest().templateName.isEmpty() || !f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll());
}

Result<QString> Scaffold::newTable(const Project &project, const QString &qualifiedName)
{
    static const QRegularExpression re(u"^([a-z_][a-z0-9_]{0,62})\\.([a-z_][a-z0-9_]{0,62})$"_qs);
    const auto match = re.match(qualifiedName);
    if (!match.hasMatch())
        return Error::validation(u"invalid table name \"%1\""_qs.arg(qualifiedName),
                                 u"Write it as schema.table in lower case, e.g. store.invoices."_qs);
    const QString text = generator(project, u"new_table"_qs);
    if (text.isEmpty())
        return Error::validation(u"the %1 template has no table generator"_qs.arg(project.manifest().templateName.isEmpty()
                                                                                     ? u"project's"_qs : project.manifest().templateName),
                                 u"`pgext new table` works in projects made with `pgext init <name> --template layered`."_qs);
    auto migration = newMigration(project, u"create_"_qs + match.captured(2));
    if (!migration)
        return migration.error();
    QHash<QString, QString> vars;
    vars.insert(u"schema"_qs, match.captured(1));
    vars.insert(u"table"_qs, match.captured(2));
    vars.insert(u"name"_qs, match.captured(2));
    QFile f(*migration);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return Error::io(u"cannot write %1"_qs.arg(*migration));
    f.write(substitute(text, vars).toUtf8());
    return *migration;
}

Result<QString> Scaffold::newFunction(const Project &project, const QString &name)
{
    if (Status s = checkName(name, u"function"_qs); !s)
        return s.error();
    const QString file = project.path(project.manifest().functionsDir + u'/' + name + u".sql"_qs);
    if (const QString text = generator(project, u"new_function"_qs); !text.isEmpty()) {
        QHash<QString, QString> vars;
        vars.insert(u"name"_qs, name);
        return writeNew(file, substitute(text, vars));
    }
    return writeNew(file, uR"(-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
CREATE OR REPLACE FUNCTION public.%1()
RETURNS json
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
AS $$
BEGIN
    RETURN json_build_object('ok', true);
END;
$$;

REVOKE EXECUTE ON FUNCTION public.%1() FROM PUBLIC;
-- GRANT EXECUTE ON FUNCTION public.%1() TO <role>;
)"_qs.arg(name));
}

} // namespace Core
