#pragma once

#include "result.h"

#include <QString>

#include <sys/types.h>

class QProcess;

namespace Core {

// The OS account a PostgreSQL server runs as. initdb and postgres refuse to run as
// root, so when we are root every cluster process runs as the `postgres` user.
struct OsUser
{
    uid_t uid = 0;
    gid_t gid = 0;
    QString name;
    QString home;

    static bool isRoot();
    static OsUser current();
    static Result<OsUser> lookup(const QString &name);
    // The account cluster processes run as: ourselves, or `postgres` when we are root.
    static Result<OsUser> clusterUser();

    bool isCurrent() const;
    // Makes `process` start as this user (setgid/initgroups/setuid in the child).
    void applyTo(QProcess &process) const;
    // Whether this user may enter every folder on the way to `path` (and `path` itself).
    bool canTraverse(const QString &path, QString *blockingFolder = nullptr) const;
    // chown -R to this user (only meaningful as root).
    Status takeOwnership(const QString &path, bool recursive) const;
};

} // namespace Core
