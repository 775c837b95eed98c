#include "testproject.h"

#include "testcluster.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

TestProject::TestProject(const QString &name, int port, const QString &extraToml)
    : m_dir(TestCluster::makeSharedTempDir())
{
    write(u"pgext.toml"_qs, u"[project]\nname = \"%1\"\n\n[database]\nname = \"%1\"\nport = %2\n%3"_qs
                                .arg(name).arg(port).arg(extraToml));
}

QString TestProject::path(const QString &relative) const
{
    return QDir(m_dir->path()).filePath(relative);
}

void TestProject::write(const QString &relative, const QString &content)
{
    write(relative, content.toUtf8());
}

void TestProject::write(const QString &relative, const QByteArray &content)
{
    const QString file = path(relative);
    QDir().mkpath(QFileInfo(file).absolutePath());
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(file));
    f.write(content);
}

void TestProject::remove(const QString &relative)
{
    QFile::remove(path(relative));
}

Core::Project TestProject::open() const
{
    auto p = Core::Project::open(root());
    if (!p)
        qFatal("cannot open test project: %s", qPrintable(p.error().toString()));
    return *p;
}
