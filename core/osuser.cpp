#include "osuser.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QProcess>

#include <cerrno>
#include <cstring>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace Core {

bool OsUser::isRoot()
{
    return geteuid() == 0;
}

static OsUser fromPasswd(const struct passwd *pw)
{
    OsUser u;
    u.uid = pw->pw_uid;
    u.gid = pw->pw_gid;
    u.name = QString::fromLocal8Bit(pw->pw_name);
    u.home = QString::fromLocal8Bit(pw->pw_dir);
    return u;
}

OsUser OsUser::current()
{
    if (const struct passwd *pw = getpwuid(geteuid()))
        return fromPasswd(pw);
    OsUser u;
    u.uid = geteuid();
    u.gid = getegid();
    u.name = QString::number(u.uid);
    return u;
}

Result<OsUser> OsUser::lookup(const QString &name)
{
    const QByteArray n = name.toLocal8Bit();
    if (const struct passwd *pw = getpwnam(n.constData()))
        return fromPasswd(pw);
    return Error::make(Error::Kind::Process,
                       u"there is no OS user \"%1\""_qs.arg(name),
                       u"PostgreSQL refuses to run as root. Install the postgresql package (it creates the "
                       "\"postgres\" user) or run pgext as a normal user."_qs);
}

Result<OsUser> OsUser::clusterUser()
{
    if (isRoot())
        return lookup(u"postgres"_qs);
    return current();
}

bool OsUser::isCurrent() const
{
    return uid == geteuid();
}

void OsUser::applyTo(QProcess &process) const
{
    if (isCurrent())
        return;
    // Everything that may allocate or read /etc (NSS) happens here, in the parent: the
    // modifier runs between fork and exec, where only plain system calls are safe.
    const QByteArray n = name.toLocal8Bit();
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (getgrouplist(n.constData(), gid, groups.data(), &count) < 0) {
        groups.resize(size_t(count));
        getgrouplist(n.constData(), gid, groups.data(), &count);
    }
    groups.resize(size_t(std::max(count, 0)));
    const uid_t u = uid;
    const gid_t g = gid;
    process.setChildProcessModifier([u, g, groups] {
        if (setgroups(groups.size(), groups.data()) != 0 || setgid(g) != 0 || setuid(u) != 0)
            _exit(126);
    });
    QProcessEnvironment env = process.processEnvironment().isEmpty()
        ? QProcessEnvironment::systemEnvironment() : process.processEnvironment();
    env.insert(u"HOME"_qs, home);
    env.insert(u"USER"_qs, name);
    env.insert(u"LOGNAME"_qs, name);
    process.setProcessEnvironment(env);
}

static bool memberOf(gid_t group, const QString &userName, gid_t primary)
{
    if (group == primary)
        return true;
    const struct group *gr = getgrgid(group);
    if (!gr)
        return false;
    const QByteArray n = userName.toLocal8Bit();
    for (char **m = gr->gr_mem; m && *m; ++m)
        if (n == *m)
            return true;
    return false;
}

bool OsUser::canTraverse(const QString &path, QString *blockingFolder) const
{
    if (uid == 0)
        return true;
    QString p = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    std::vector<QString> chain;
    while (true) {
        chain.push_back(p);
        if (p == u"/"_qs)
            break;
        const QString parent = QFileInfo(p).path();
        if (parent == p)
            break;
        p = parent;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        struct stat st;
        const QByteArray local = it->toLocal8Bit();
        if (stat(local.constData(), &st) != 0)
            break; // does not exist yet: whoever creates it decides
        mode_t bit;
        if (st.st_uid == uid)
            bit = S_IXUSR;
        else if (memberOf(st.st_gid, name, gid))
            bit = S_IXGRP;
        else
            bit = S_IXOTH;
        if (!(st.st_mode & bit)) {
            if (blockingFolder)
                *blockingFolder = *it;
            return false;
        }
    }
    return true;
}

Status OsUser::takeOwnership(const QString &path, bool recursive) const
{
    if (isCurrent())
        return {};
    auto one = [this](const QString &p) -> Status {
        const QByteArray local = p.toLocal8Bit();
        if (lchown(local.constData(), uid, gid) != 0)
            return Error::io(u"cannot change the owner of %1 to %2: %3"_qs.arg(p, name, QString::fromLocal8Bit(strerror(errno))));
        return {};
    };
    if (Status s = one(path); !s)
        return s;
    if (recursive) {
        QDirIterator it(path, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System,
                        QDirIterator::Subdirectories);
        while (it.hasNext())
            if (Status s = one(it.next()); !s)
                return s;
    }
    return {};
}

} // namespace Core
