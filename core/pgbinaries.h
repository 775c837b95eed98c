#pragma once

#include "result.h"

#include <QString>

namespace Core {

// Where the PostgreSQL server programs (initdb, pg_ctl, postgres) live.
struct PgBinaries
{
    QString binDir;
    int majorVersion = 0;

    // Looks in `preferred` (pgext.toml [postgres] bin_dir or a studio setting), then
    // $PGEXT_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/<newest>/bin, $PATH.
    static Result<PgBinaries> locate(const QString &preferred = {});

    QString program(const QString &name) const;
};

} // namespace Core
