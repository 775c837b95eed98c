#pragma once

#include "migrationfile.h"
#include "result.h"

#include <QDateTime>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

namespace Core {

class PgConnection;
class Project;

// One row of pgext.schema_history.
struct AppliedMigration
{
    int rank = 0;
    QString version;
    QString name;
    QString kind;
    QString script;
    QString checksum;
    QDateTime appliedAt;
    QString appliedBy;
    int executionMs = 0;
    bool success = true;
};

// A file's state against the history, as `pgext status` and the studio show it.
struct MigrationState
{
    enum class State { Applied, Pending, Modified, Failed, Missing, OutOfOrder };
    State state = State::Pending;
    MigrationFile::Kind kind = MigrationFile::Kind::Versioned;
    QString path;
    QString version;
    QString checksum;         // of the file on disk (empty when Missing)
    QString appliedChecksum;  // from history (empty when never applied)
    QDateTime appliedAt;
    int executionMs = 0;

    static QString stateName(State state);
};

struct MigrationPlan
{
    std::vector<MigrationFile> toApply;
    std::vector<MigrationState> states;
    bool historyExists = false;
    // The first validation failure (changed applied file, out-of-order version, missing
    // file). `states` is complete either way, so status can show everything.
    std::optional<Error> problem;
};

// Flyway-grade roll-forward migrations (docs/MIGRATIONS.md): schema.sql baseline,
// versioned files, repeatable function files; a session-level advisory lock; each file
// in its own transaction (or none with `-- pgext:no-transaction`); checksums.
class Migrator
{
public:
    struct Options
    {
        bool dryRun = false;
        bool allowOutOfOrder = false;
        bool repeatableOnly = false;   // deploy-functions
        std::function<void(const QString &)> progress;
        // Asked before each file; true stops the run there (files already applied stay).
        std::function<bool()> cancelled;
    };
    struct Report
    {
        std::vector<MigrationFile> applied;
        qint64 elapsedMs = 0;
    };

    static constexpr qint64 LockKey = 0x7067657874L; // "pgext"

    Migrator(PgConnection &connection, const Project &project);

    Result<std::vector<AppliedMigration>> history();
    // Validates files against history and works out what to apply. Changes nothing.
    Result<MigrationPlan> plan(const Options &options);
    // Takes the lock, creates the history table if needed, and applies the plan.
    Result<Report> migrate(const Options &options);

private:
    Status ensureHistoryTable();
    Status acquireLock(const Options &options);
    void releaseLock();
    Status apply(const MigrationFile &file, const Options &options);
    Status record(const MigrationFile &file, qint64 ms, bool success);
    Error locate(Error error, const MigrationFile &file, qsizetype offset, const QString &statement) const;

    PgConnection &m_conn;
    const Project &m_project;
};

} // namespace Core
