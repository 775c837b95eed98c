#include "migrator.h"

#include "logging.h"
#include "pgconnection.h"
#include "project.h"
#include "sqlsplitter.h"

#include <QElapsedTimer>
#include <QHash>
#include <QRegularExpression>
#include <QSet>

namespace Core {

QString MigrationState::stateName(State state)
{
    switch (state) {
    case State::Applied: return u"applied"_qs;
    case State::Pending: return u"pending"_qs;
    case State::Modified: return u"modified"_qs;
    case State::Failed: return u"failed"_qs;
    case State::Missing: return u"missing"_qs;
    case State::OutOfOrder: return u"out of order"_qs;
    }
    return {};
}

Migrator::Migrator(PgConnection &connection, const Project &project)
    : m_conn(connection), m_project(project)
{
}

Status Migrator::ensureHistoryTable()
{
    return m_conn.execStatus(uR"(
CREATE SCHEMA IF NOT EXISTS pgext;
COMMENT ON SCHEMA pgext IS 'pgext bookkeeping: migration history';
CREATE TABLE IF NOT EXISTS pgext.schema_history (
    installed_rank  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version         text,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('baseline', 'versioned', 'repeatable')),
    script          text NOT NULL,
    checksum        text NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    applied_by      text NOT NULL DEFAULT current_user,
    execution_ms    integer NOT NULL,
    success         boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS schema_history_script_idx ON pgext.schema_history (script, installed_rank);
REVOKE ALL ON SCHEMA pgext FROM PUBLIC;
REVOKE ALL ON pgext.schema_history FROM PUBLIC;
)"_qs);
}

Result<std::vector<AppliedMigration>> Migrator::history()
{
    std::vector<AppliedMigration> rows;
    auto exists = m_conn.exec(u"SELECT to_regclass('pgext.schema_history') IS NOT NULL"_qs);
    if (!exists)
        return exists.error();
    if (exists->value(0, 0) != u"t"_qs)
        return rows;
    auto r = m_conn.exec(uR"(SELECT installed_rank, coalesce(version, ''), name, kind, script, checksum,
       to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), applied_by, execution_ms, success
  FROM pgext.schema_history ORDER BY installed_rank)"_qs);
    if (!r)
        return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        AppliedMigration a;
        a.rank = r->value(i, 0).toInt();
        a.version = r->value(i, 1);
        a.name = r->value(i, 2);
        a.kind = r->value(i, 3);
        a.script = r->value(i, 4);
        a.checksum = r->value(i, 5);
        a.appliedAt = QDateTime::fromString(r->value(i, 6), Qt::ISODateWithMs);
        a.appliedBy = r->value(i, 7);
        a.executionMs = r->value(i, 8).toInt();
        a.success = r->value(i, 9) == u"t"_qs;
        rows.push_back(a);
    }
    return rows;
}

Result<MigrationPlan> Migrator::plan(const Options &options)
{
    auto files = m_project.migrationFiles();
    if (!files)
        return files.error();
    auto hist = history();
    if (!hist)
        return hist.error();

    MigrationPlan plan;
    // Latest row per script; the latest successful row per script.
    QHash<QString, AppliedMigration> latest;
    QHash<QString, AppliedMigration> latestOk;
    QString newestVersion;
    for (const AppliedMigration &a : *hist) {
        plan.historyExists = true;
        latest.insert(a.script, a);
        if (a.success) {
            latestOk.insert(a.script, a);
            if (a.kind != u"repeatable"_qs && a.version > newestVersion)
                newestVersion = a.version;
        }
    }

    QSet<QString> onDisk;
    for (const MigrationFile &f : *files) {
        onDisk.insert(f.path);
        MigrationState s;
        s.kind = f.kind;
        s.path = f.path;
        s.version = f.version;
        s.checksum = f.checksum;
        const auto ok = latestOk.constFind(f.path);
        const auto last = latest.constFind(f.path);
        if (ok != latestOk.constEnd()) {
            s.appliedChecksum = ok->checksum;
            s.appliedAt = ok->appliedAt;
            s.executionMs = ok->executionMs;
        }
        const bool failedLast = last != latest.constEnd() && !last->success;

        if (f.kind == MigrationFile::Kind::Repeatable) {
            if (ok == latestOk.constEnd() || ok->checksum != f.checksum || failedLast) {
                s.state = failedLast ? MigrationState::State::Failed
                          : ok == latestOk.constEnd() ? MigrationState::State::Pending
                                                      : MigrationState::State::Modified;
                plan.toApply.push_back(f);
            } else {
                s.state = MigrationState::State::Applied;
            }
            plan.states.push_back(s);
            continue;
        }

        if (ok != latestOk.constEnd()) {
            if (ok->checksum != f.checksum) {
                s.state = MigrationState::State::Modified;
                plan.states.push_back(s);
                if (!options.repeatableOnly && !plan.problem) {
                    Error e = Error::validation(
                        u"applied %1 was changed afterwards (checksum %2 in history, %3 on disk)"_qs
                            .arg(f.kind == MigrationFile::Kind::Baseline ? u"baseline"_qs : u"migration"_qs,
                                 ok->checksum.left(12), f.checksum.left(12)),
                        u"Applied files are immutable. Restore it (e.g. `git checkout -- %1`) and put the change "
                        "in a new migration: `pgext new migration <name>`."_qs.arg(f.path));
                    e.file = f.path;
                    plan.problem = e;
                }
                continue;
            }
            s.state = MigrationState::State::Applied;
            plan.states.push_back(s);
            continue;
        }
        if (!newestVersion.isEmpty() && f.version < newestVersion) {
            s.state = MigrationState::State::OutOfOrder;
            plan.states.push_back(s);
            if (!options.allowOutOfOrder && !options.repeatableOnly && !plan.problem) {
                Error e = Error::validation(
                    u"version %1 is older than the newest applied migration (%2)"_qs.arg(f.version, newestVersion),
                    u"Rename it with a newer timestamp, or apply it anyway with --allow-out-of-order."_qs);
                e.file = f.path;
                plan.problem = e;
            }
        } else {
            s.state = failedLast ? MigrationState::State::Failed : MigrationState::State::Pending;
            plan.states.push_back(s);
        }
        if (!options.repeatableOnly)
            plan.toApply.push_back(f);
    }

    // Applied files that have disappeared: the history no longer matches the tree.
    for (auto it = latestOk.constBegin(); it != latestOk.constEnd(); ++it) {
        if (onDisk.contains(it.key()))
            continue;
        MigrationState s;
        s.state = MigrationState::State::Missing;
        s.kind = it->kind == u"baseline"_qs ? MigrationFile::Kind::Baseline
                 : it->kind == u"repeatable"_qs ? MigrationFile::Kind::Repeatable
                                                 : MigrationFile::Kind::Versioned;
        s.path = it.key();
        s.version = it->version;
        s.appliedChecksum = it->checksum;
        s.appliedAt = it->appliedAt;
        plan.states.push_back(s);
        if (s.kind != MigrationFile::Kind::Repeatable && !options.repeatableOnly && !plan.problem) {
            Error e = Error::validation(u"applied migration is missing from the project"_qs,
                                        u"Restore the file; applied migrations must stay in the tree."_qs);
            e.file = it.key();
            plan.problem = e;
        }
    }
    return plan;
}

Status Migrator::acquireLock(const Options &options)
{
    auto r = m_conn.exec(u"SELECT pg_try_advisory_lock($1)"_qs, {QString::number(LockKey)});
    if (!r)
        return r.error();
    if (r->value(0, 0) == u"t"_qs)
        return {};
    if (options.progress)
        options.progress(u"waiting for another migration run on this database to finish..."_qs);
    // Session-level: a transaction-level lock would be dropped at each file's COMMIT and
    // would block CREATE INDEX CONCURRENTLY (which waits for all transactions).
    auto w = m_conn.exec(u"SELECT pg_advisory_lock($1)"_qs, {QString::number(LockKey)});
    if (!w)
        return w.error();
    return {};
}

void Migrator::releaseLock()
{
    (void)m_conn.exec(u"SELECT pg_advisory_unlock($1)"_qs, {QString::number(LockKey)});
}

Error Migrator::locate(Error error, const MigrationFile &file, qsizetype offset, const QString &statement) const
{
    error.file = file.path;
    if (error.position > 0) {
        const auto [line, column] = SqlSplitter::lineColumn(file.content, offset, statement, error.position);
        error.line = line;
        error.column = column;
    } else {
        const auto [line, column] = SqlSplitter::lineColumnAt(file.content, offset);
        error.line = line;
        error.column = column;
    }
    return error;
}

Status Migrator::record(const MigrationFile &file, qint64 ms, bool success)
{
    auto r = m_conn.exec(
        u"INSERT INTO pgext.schema_history (version, name, kind, script, checksum, execution_ms, success) "
        "VALUES (nullif($1, ''), $2, $3, $4, $5, $6, $7)"_qs,
        {file.version, file.name, MigrationFile::kindName(file.kind), file.path, file.checksum,
         QString::number(ms), success ? u"true"_qs : u"false"_qs});
    if (!r)
        return r.error();
    return {};
}

// The statement from its first word on: whitespace, -- comments and (nested) /* */
// comments before it removed.
static QString withoutLeadingComments(const QString &text)
{
    qsizetype i = 0;
    const qsizetype n = text.size();
    while (i < n) {
        if (text[i].isSpace()) {
            ++i;
        } else if (text.mid(i, 2) == u"--"_qs) {
            while (i < n && text[i] != u'\n')
                ++i;
        } else if (text.mid(i, 2) == u"/*"_qs) {
            int depth = 0;
            do {
                if (text.mid(i, 2) == u"/*"_qs) {
                    ++depth;
                    i += 2;
                } else if (text.mid(i, 2) == u"*/"_qs) {
                    --depth;
                    i += 2;
                } else {
                    ++i;
                }
            } while (i < n && depth > 0);
        } else {
            break;
        }
    }
    return text.mid(i);
}

// What a file may change in the session must not reach the next file: SET, and also
// SET ROLE and SET SESSION AUTHORIZATION, which RESET ALL leaves alone.
static const char ResetSession[] = "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL";

Status Migrator::apply(const MigrationFile &file, const Options &)
{
    auto statements = SqlSplitter::split(file.content);
    if (!statements) {
        Error e = statements.error();
        e.file = file.path;
        return e;
    }
    if (!file.noTransaction) {
        // The file already runs inside our transaction; its own BEGIN/COMMIT would end
        // it early and split the file from its history row.
        // Judged on the first words after any comments: "COMMIT /* ATOMIC */" and
        // "-- note\nCOMMIT" are transaction control too (BEGIN ATOMIC only occurs inside
        // a CREATE FUNCTION, never at the start of a statement).
        static const QRegularExpression control(
            u"^(BEGIN|COMMIT|ROLLBACK|START\\s+TRANSACTION|END|ABORT|PREPARE\\s+TRANSACTION)\\b"_qs,
            QRegularExpression::CaseInsensitiveOption);
        for (const SqlSplitter::Statement &st : *statements) {
            if (control.match(withoutLeadingComments(st.text)).hasMatch()) {
                Error e = Error::validation(u"transaction control statement in a migration file"_qs,
                                            u"Each file already runs in its own transaction: remove it, or put "
                                            "`-- pgext:no-transaction` on the first line to manage transactions yourself."_qs);
                e.file = file.path;
                e.line = st.line;
                e.column = st.column;
                return e;
            }
        }
    }
    QElapsedTimer timer;
    timer.start();
    if (!file.noTransaction) {
        if (Status s = m_conn.execStatus(u"BEGIN"_qs); !s)
            return s;
    }
    for (const SqlSplitter::Statement &st : *statements) {
        auto r = m_conn.exec(st.text);
        if (!r) {
            Error e = locate(r.error(), file, st.offset, st.text);
            if (!file.noTransaction) {
                (void)m_conn.exec(u"ROLLBACK"_qs);
            } else {
                (void)m_conn.exec(u"RESET SESSION AUTHORIZATION; RESET ROLE"_qs);
                // Statements before this one are committed: say so, and remember the failure.
                (void)record(file, timer.elapsed(), false);
                e.detail = (e.detail.isEmpty() ? QString() : e.detail + u"\n  "_qs)
                           + u"This file runs without a transaction: statements before line %1 stay applied."_qs.arg(e.line);
            }
            (void)m_conn.exec(QString::fromLatin1(ResetSession));
            return e;
        }
    }
    // The history row is written as the migrating role, not as one the file switched to.
    (void)m_conn.exec(u"RESET SESSION AUTHORIZATION; RESET ROLE"_qs);
    if (Status s = record(file, timer.elapsed(), true); !s) {
        if (!file.noTransaction)
            (void)m_conn.exec(u"ROLLBACK"_qs);
        return s;
    }
    if (!file.noTransaction) {
        if (Status s = m_conn.execStatus(u"COMMIT"_qs); !s) {
            Error e = s.error();
            e.file = file.path;
            return e; // deferred constraint failures surface here
        }
    }
    (void)m_conn.exec(QString::fromLatin1(ResetSession));
    return {};
}

Result<Migrator::Report> Migrator::migrate(const Options &options)
{
    QElapsedTimer total;
    total.start();
    Report report;
    if (options.dryRun) {
        auto p = plan(options);
        if (!p)
            return p.error();
        if (p->problem)
            return *p->problem;
        return report;
    }
    if (Status s = acquireLock(options); !s)
        return s.error();
    // Everything below runs under the lock; the plan is made after taking it so a
    // concurrent runner's work is seen and never repeated.
    auto run = [&]() -> Status {
        // Validate first: a bad file name or a changed applied file must leave the
        // database exactly as it was, history table included.
        auto p = plan(options);
        if (!p)
            return p.error();
        if (p->problem)
            return *p->problem;
        if (Status s = ensureHistoryTable(); !s)
            return s;
        int index = 0;
        const int count = int(p->toApply.size());
        for (const MigrationFile &f : p->toApply) {
            if (options.cancelled && options.cancelled())
                return Error::make(Error::Kind::Cancelled,
                                   u"cancelled after %1 of %2 file(s); the rest are still pending"_qs.arg(index).arg(count));
            ++index;
            QElapsedTimer t;
            t.start();
            if (options.progress)
                options.progress(u"[%1/%2] %3"_qs.arg(index).arg(count).arg(f.path));
            if (Status s = apply(f, options); !s)
                return s;
            qCDebug(lcMigrate) << "applied" << f.path << t.elapsed() << "ms";
            report.applied.push_back(f);
        }
        return {};
    };
    const Status result = run();
    releaseLock();
    if (!result)
        return result.error();
    report.elapsedMs = total.elapsed();
    return report;
}

} // namespace Core
