#include "project.h"

#include "dotenv.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace Core {

Result<Project> Project::open(const QString &root)
{
    Project p;
    p.m_root = QDir(root).absolutePath();
    const QString manifestPath = p.path(u"pgext.toml"_qs);
    if (!QFileInfo::exists(manifestPath))
        return Error::validation(u"%1 is not a pgext project: no pgext.toml"_qs.arg(p.m_root),
                                 u"Create one with `pgext init <name>`, or run inside a project folder."_qs);
    auto manifest = Manifest::load(manifestPath);
    if (!manifest) {
        Error e = manifest.error();
        e.file = p.relative(e.file);
        return e;
    }
    p.m_manifest = *manifest;
    const QString envPath = p.path(u".env"_qs);
    if (QFileInfo::exists(envPath)) {
        auto env = DotEnv::load(envPath);
        if (!env) {
            Error e = env.error();
            e.file = p.relative(e.file);
            return e;
        }
        p.m_env = *env;
    }
    return p;
}

Result<Project> Project::find(const QString &start)
{
    QDir dir(QFileInfo(start).absoluteFilePath());
    while (true) {
        if (QFileInfo::exists(dir.filePath(u"pgext.toml"_qs)))
            return open(dir.absolutePath());
        if (!dir.cdUp())
            break;
    }
    return Error::validation(u"no pgext.toml found in %1 or any parent folder"_qs.arg(QDir(start).absolutePath()),
                             u"Run the command inside a project created with `pgext init <name>`, or pass --project <dir>."_qs);
}

QString Project::path(const QString &relative) const
{
    return QDir(m_root).filePath(relative);
}

QString Project::relative(const QString &absolute) const
{
    if (QFileInfo(absolute).isRelative())
        return absolute;
    return QDir(m_root).relativeFilePath(absolute);
}

static Result<MigrationFile> readFile(const Project &project, const QString &absolute, MigrationFile::Kind kind)
{
    MigrationFile f;
    f.kind = kind;
    f.absolutePath = absolute;
    f.path = project.relative(absolute);
    QFile file(absolute);
    if (!file.open(QIODevice::ReadOnly))
        return Error::io(u"cannot read %1: %2"_qs.arg(f.path, file.errorString()));
    const QByteArray bytes = file.readAll();
    f.content = QString::fromUtf8(bytes);
    if (f.content.contains(QChar::ReplacementCharacter) && !bytes.contains("\xEF\xBF\xBD")) {
        Error e = Error::validation(u"file is not valid UTF-8"_qs, u"Save it as UTF-8."_qs);
        e.file = f.path;
        return e;
    }
    f.checksum = MigrationFile::checksumOf(f.content);
    f.noTransaction = MigrationFile::wantsNoTransaction(f.content);
    return f;
}

Result<std::vector<MigrationFile>> Project::migrationFiles() const
{
    std::vector<MigrationFile> files;
    const Manifest &m = m_manifest;

    const QString baseline = path(m.schemaFile);
    if (QFileInfo::exists(baseline)) {
        auto f = readFile(*this, baseline, MigrationFile::Kind::Baseline);
        if (!f)
            return f.error();
        f->version = u"0"_qs;
        f->name = u"baseline"_qs;
        files.push_back(*f);
    }

    // migrations/<YYYYMMDDHHMMSS>_<name>.sql — the timestamp is the version.
    static const QRegularExpression versionedRe(u"^(\\d{14})_([A-Za-z0-9_\\-]+)\\.sql$"_qs);
    std::vector<MigrationFile> versioned;
    QSet<QString> seen;
    const QDir migrations(path(m.migrationsDir));
    if (migrations.exists()) {
        const QFileInfoList entries = migrations.entryInfoList(QDir::Files | QDir::NoDotAndDotDot | QDir::Hidden, QDir::Name);
        for (const QFileInfo &fi : entries) {
            if (fi.fileName().startsWith(u'.') || fi.fileName().endsWith(u'~'))
                continue; // editor droppings
            const auto match = versionedRe.match(fi.fileName());
            if (!match.hasMatch()) {
                Error e = Error::validation(u"migration file name must be <YYYYMMDDHHMMSS>_<name>.sql"_qs,
                                            u"Create migrations with `pgext new migration <name>`, or rename the file."_qs);
                e.file = relative(fi.absoluteFilePath());
                return e;
            }
            auto f = readFile(*this, fi.absoluteFilePath(), MigrationFile::Kind::Versioned);
            if (!f)
                return f.error();
            f->version = match.captured(1);
            f->name = match.captured(2);
            if (seen.contains(f->version)) {
                Error e = Error::validation(u"two migrations share version %1"_qs.arg(f->version),
                                            u"Give each migration its own timestamp."_qs);
                e.file = f->path;
                return e;
            }
            seen.insert(f->version);
            versioned.push_back(*f);
        }
    }
    std::sort(versioned.begin(), versioned.end(),
              [](const MigrationFile &a, const MigrationFile &b) { return a.version < b.version; });
    files.insert(files.end(), versioned.begin(), versioned.end());

    // functions/**/*.sql — repeatable, applied in path order.
    std::vector<MigrationFile> repeatable;
    const QString functionsRoot = path(m.functionsDir);
    if (QDir(functionsRoot).exists()) {
        QDirIterator it(functionsRoot, {u"*.sql"_qs}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString file = it.next();
            if (QFileInfo(file).fileName().startsWith(u'.'))
                continue;
            auto f = readFile(*this, file, MigrationFile::Kind::Repeatable);
            if (!f)
                return f.error();
            f->name = f->path;
            repeatable.push_back(*f);
        }
    }
    std::sort(repeatable.begin(), repeatable.end(),
              [](const MigrationFile &a, const MigrationFile &b) { return a.path < b.path; });
    files.insert(files.end(), repeatable.begin(), repeatable.end());
    return files;
}

} // namespace Core
