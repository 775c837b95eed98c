#pragma once

#include "asyncconnection.h"
#include "checker.h"
#include "identity.h"
#include "tableinfo.h"

#include <QObject>

#include <functional>
#include <memory>
#include <vector>

namespace Realtime {

// Every question pg_events_ws asks PostgreSQL, asked the way PostgREST would: connected
// as the same kind of role (an authenticator that may only switch to its granted roles),
// the role switched with set_config('role', ...), request.jwt.claims set, the configured
// pre-request function run, all inside one implicit transaction per question (pipeline
// segments), so a failing question never poisons the connection for the next one.
//
// Answers are values: a verdict, a deterministic refusal (a policy error, an unknown
// role), or "unavailable" when PostgreSQL could not answer - never a guess.
class Authorizer : public QObject, public Checker
{
    Q_OBJECT
public:
    struct Options
    {
        QString conninfo;
        int poolSize = 2;          // the first connection serves live batches only
        QString preRequest;        // schema.function, like PostgREST's db-pre-request
        QString searchPath;        // set like PostgREST's db-schemas/db-extra-search-path ("" = leave)
    };

    Authorizer(Options options, QObject *parent = nullptr);

    void open();
    bool isReady() const;
    // Why the database cannot serve checks although it is reachable (pg_events too old).
    QString problem() const { return m_problem; }

    // How a question ended.
    struct Outcome
    {
        enum class Kind { Ok, Refused, Unavailable };
        Kind kind = Kind::Ok;
        QString code;              // Refused: protocol error code (unauthorized, forbidden, unknown_table, ...)
        QString message;
        static Outcome refused(const QString &code, const QString &message) { return {Kind::Refused, code, message}; }
        static Outcome unavailable(const QString &message) { return {Kind::Unavailable, {}, message}; }
    };

    // At auth: may the server switch to the role, and does the pre-request function pass?
    void checkIdentity(const Identity &who, std::function<void(Outcome)> done);
    // At subscribe: the table by its exact names, tracked, and the role may SELECT it.
    void resolveTable(const Identity &who, const QString &schema, const QString &table,
                      std::function<void(Outcome, std::shared_ptr<const TableInfo>)> done);
    // At subscribe: pg_events.can_listen(channel) as the identity; `allowed` is empty
    // when the project defines no authorize_channel (the caller applies the default).
    void canListen(const Identity &who, const QString &channel, std::function<void(Outcome, std::optional<bool> allowed)> done);

    // Checker
    void check(CheckRequest request, bool replay, Done done) override;
    void reloadTables(const QList<quint32> &relids, TablesDone done) override;

    // pg_current_wal_lsn(), for the lag metric.
    void currentWalLsn(std::function<void(quint64)> done);

    // Connection-level failures, SQLSTATE classes 08, 40, 53, 57, 58 and XX: PostgreSQL
    // could not answer now; anything else is its answer.
    static bool isTransient(const Core::Error &e);

private:
    Core::AsyncConnection *pick(bool live);
    std::vector<Core::PipelineStatement> asIdentity(const Identity &who) const;
    static Core::Result<TableInfo> parseTable(const Core::PgResult &r, int row);

    Options m_options;
    std::vector<Core::AsyncConnection *> m_pool;
    size_t m_next = 0;
    QString m_problem;
};

} // namespace Realtime
