#include "pgbinaries.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>

#include <algorithm>

namespace Core {

static bool hasServerPrograms(const QString &dir)
{
    for (const char *p : {"initdb", "pg_ctl", "postgres"}) {
        const QFileInfo fi(QDir(dir).filePath(QString::fromLatin1(p)));
        if (!fi.isFile() || !fi.isExecutable())
            return false;
    }
    return true;
}

QString PgBinaries::program(const QString &name) const
{
    return QDir(binDir).filePath(name);
}

Result<PgBinaries> PgBinaries::locate(const QString &preferred)
{
    QStringList candidates;
    if (!preferred.isEmpty()) {
        if (!hasServerPrograms(preferred))
            return Error::make(Error::Kind::Process,
                               u"no PostgreSQL server programs (initdb, pg_ctl, postgres) in %1"_qs.arg(preferred),
                               u"Fix [postgres] bin_dir in pgext.toml (or the studio setting), or remove it to search automatically."_qs);
        candidates << preferred;
    }
    const QString env = qEnvironmentVariable("PGEXT_PG_BINDIR");
    if (!env.isEmpty())
        candidates << env;
    const QString pgConfig = QStandardPaths::findExecutable(u"pg_config"_qs);
    if (!pgConfig.isEmpty()) {
        QProcess p;
        p.start(pgConfig, {u"--bindir"_qs});
        if (p.waitForFinished(5000) && p.exitCode() == 0)
            candidates << QString::fromLocal8Bit(p.readAllStandardOutput()).trimmed();
    }
    QDir versions(u"/usr/lib/postgresql"_qs);
    QStringList majors = versions.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(majors.begin(), majors.end(), [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
    for (const QString &m : majors)
        candidates << versions.filePath(m + u"/bin"_qs);
    const QString onPath = QStandardPaths::findExecutable(u"initdb"_qs);
    if (!onPath.isEmpty())
        candidates << QFileInfo(onPath).absolutePath();

    for (const QString &dir : candidates) {
        if (!hasServerPrograms(dir))
            continue;
        PgBinaries b;
        b.binDir = dir;
        QProcess p;
        p.start(b.program(u"pg_ctl"_qs), {u"--version"_qs});
        if (p.waitForFinished(5000)) {
            static const QRegularExpression re(u"(\\d+)(?:\\.\\d+)?"_qs);
            const auto m = re.match(QString::fromLocal8Bit(p.readAllStandardOutput()));
            if (m.hasMatch())
                b.majorVersion = m.captured(1).toInt();
        }
        return b;
    }
    return Error::make(Error::Kind::Process,
                       u"PostgreSQL server programs (initdb, pg_ctl, postgres) not found"_qs,
                       u"Install them (Debian: apt-get install postgresql-15), or point PGEXT_PG_BINDIR or "
                       "[postgres] bin_dir in pgext.toml at their folder."_qs);
}

} // namespace Core
