#pragma once

#include "checker.h"
#include "pipeline.h"
#include "subscription.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <deque>
#include <functional>

// Database-free doubles for the pipeline's unit tests: a checker that answers from
// memory (at once, or when told to) and sinks that record what a client would receive.
// The real PostgreSQL answers are tested in tst_realtimesecurity; here the delivery rules.
namespace PipelineTestKit {

using namespace Realtime;

inline TableInfo table(quint32 relid, bool rls, const QString &name = u"t"_qs)
{
    TableInfo t;
    t.relid = relid;
    t.schema = u"public"_qs;
    t.name = name;
    t.columnOrder = {u"id"_qs, u"owner"_qs, u"body"_qs};
    t.columns = {{u"id"_qs, Core::TypeCategory::Integer}, {u"owner"_qs, Core::TypeCategory::Text}, {u"body"_qs, Core::TypeCategory::Text}};
    t.primaryKey = {u"id"_qs};
    t.rowSecurity = rls;
    t.tracked = true;
    t.policyColumns = rls ? QStringList{u"owner"_qs} : QStringList();
    t.fingerprint = u"fp%1"_qs.arg(relid);
    return t;
}

class FakeChecker : public Checker
{
public:
    // Who may see which image (RLS); default: the row's owner equals the claims' sub.
    std::function<bool(const Identity &, quint32, const QJsonObject &)> policy = [](const Identity &who, quint32, const QJsonObject &row) {
        return row.value(u"owner"_qs).toString() == who.claims.value(u"sub"_qs).toString();
    };
    // Identities whose check fails (a policy error for their claims).
    QSet<QString> failing;
    int unavailable = 0;        // answer Unavailable this many times
    int notVisible = 0;         // answer NotVisible this many times
    bool defer = false;         // keep answers until release()
    QHash<quint32, QString> fingerprints;       // default: "fp<relid>"
    QSet<quint32> gone;                         // tables that no longer exist
    QHash<quint32, TableInfo> reloaded;         // what reloadTables() returns
    QSet<QString> denied;

    int requests = 0, replayRequests = 0, groups = 0, images = 0, reloads = 0;
    std::vector<CheckRequest> seen;

    void check(CheckRequest request, bool replay, Done done) override
    {
        ++requests;
        replayRequests += replay;
        groups += int(request.groups.size());
        for (const auto &g : request.groups)
            images += int(g.images.size());
        seen.push_back(request);
        auto answer = [this, request, done] {
            CheckReply r;
            if (unavailable > 0) {
                --unavailable;
                r.status = CheckReply::Status::Unavailable;
                r.error = Core::Error::make(Core::Error::Kind::Connection, u"PostgreSQL is away"_qs);
            } else if (notVisible > 0 && !request.xids.empty()) {
                --notVisible;
                r.status = CheckReply::Status::NotVisible;
            } else {
                for (quint32 t : request.tables)
                    if (!gone.contains(t))
                        r.fingerprints.insert(t, fingerprints.value(t, u"fp%1"_qs.arg(t)));
                for (const auto &[role, relid] : request.privileges)
                    if (denied.contains(CheckReply::privilegeKey(role, relid)))
                        r.denied.insert(CheckReply::privilegeKey(role, relid));
                for (const auto &g : request.groups) {
                    CheckReply::Group out;
                    if (failing.contains(g.who.key()))
                        out.error = Core::Error::validation(u"invalid input syntax for type uuid"_qs);
                    else
                        for (int i = 0; i < int(g.images.size()); ++i)
                            if (policy(g.who, g.relid, g.images[size_t(i)]))
                                out.visible.insert(i);
                    r.groups.push_back(out);
                }
            }
            done(r);
        };
        if (defer)
            m_pending.push_back(answer);
        else
            answer();
    }
    void reloadTables(const QList<quint32> &relids, TablesDone done) override
    {
        ++reloads;
        QHash<quint32, std::optional<TableInfo>> out;
        for (quint32 t : relids)
            out.insert(t, gone.contains(t) ? std::nullopt : std::optional<TableInfo>(reloaded.value(t, table(t, false))));
        done(out);
    }
    // Answers everything kept back; returns how many.
    int release()
    {
        int n = 0;
        while (!m_pending.empty()) {
            auto f = std::move(m_pending.front());
            m_pending.pop_front();
            f();
            ++n;
        }
        return n;
    }
    int pending() const { return int(m_pending.size()); }

private:
    std::deque<std::function<void()>> m_pending;
};

class FakeSink : public SubscriberSink
{
public:
    explicit FakeSink(const QString &sub, const QString &role = u"app_user"_qs)
    {
        m_identity.role = role;
        m_identity.claims = {{u"role"_qs, role}, {u"sub"_qs, sub}};
        m_identity.fromToken = true;
    }
    const Identity &identity() const override { return m_identity; }
    bool sendFrame(const QByteArray &frame) override
    {
        frames << QJsonDocument::fromJson(frame).object();
        return true;
    }
    void endSubscription(const QString &id, const QString &code, const QString &message, const QString &ref) override
    {
        ended << QJsonObject{{u"id"_qs, id}, {u"code"_qs, code}, {u"message"_qs, message}, {u"ref"_qs, ref}};
    }
    QList<QJsonObject> of(const QString &type) const
    {
        QList<QJsonObject> out;
        for (const auto &f : frames)
            if (f.value(u"type"_qs) == type)
                out << f;
        return out;
    }
    // The `n` values of the rows in the change frames, in order.
    QList<int> ids() const
    {
        QList<int> out;
        for (const auto &f : of(u"change"_qs))
            out << (f.value(u"record"_qs).isObject() ? f.value(u"record"_qs) : f.value(u"old_record"_qs)).toObject().value(u"id"_qs).toInt();
        return out;
    }

    QList<QJsonObject> frames;
    QList<QJsonObject> ended;

private:
    Identity m_identity;
};

inline Core::PgEvent change(Core::PgEvent::Op op, quint32 relid, int id, const QString &owner, const QString &body = u"b"_qs)
{
    Core::PgEvent e;
    e.op = op;
    e.schema = u"public"_qs;
    e.table = u"t"_qs;
    e.relid = relid;
    e.primaryKey = {u"id"_qs};
    const QJsonObject row{{u"id"_qs, id}, {u"owner"_qs, owner}, {u"body"_qs, body}};
    if (op == Core::PgEvent::Op::Delete) {
        e.oldTuple = row;
        e.hasOld = true;
    } else {
        e.newTuple = row;
    }
    return e;
}

inline Core::PgEvent message(const QString &channel, const QJsonValue &payload)
{
    Core::PgEvent e;
    e.op = Core::PgEvent::Op::Message;
    e.channel = channel;
    e.payload = payload;
    return e;
}

// One transaction (or one chunk of it) at commit LSN `lsn`; events numbered from `seq`.
inline TransactionChunk tx(quint64 lsn, std::vector<Core::PgEvent> events, quint32 seq = 0, bool first = true, bool last = true)
{
    TransactionChunk c;
    c.xid = lsn;
    c.lsn = lsn;
    c.endLsn = lsn + 8;
    c.commitTime = u"2026-12-04T00:00:00.000000Z"_qs;
    c.first = first;
    c.last = last;
    for (auto &e : events) {
        e.lsn = lsn;
        e.xid = lsn;
        e.seq = seq++;
        c.bytes += 100;
    }
    c.events = std::move(events);
    return c;
}

inline ClientMessage tableMessage(const QString &id, const QString &filter = {}, std::optional<Core::EventCursor> since = {})
{
    ClientMessage m;
    m.type = ClientMessage::Type::Subscribe;
    m.id = id;
    m.schema = u"public"_qs;
    m.table = u"t"_qs;
    m.filter = filter;
    m.since = since;
    return m;
}

inline std::shared_ptr<Subscription> tableSub(SubscriberSink *sink, const TableInfo &info, const QString &id = u"s"_qs,
                                              const QString &filter = {}, std::optional<Core::EventCursor> since = {})
{
    auto s = Subscription::forTable(tableMessage(id, filter, since), std::make_shared<const TableInfo>(info), sink);
    if (!s)
        qFatal("subscription: %s", qPrintable(s.error().message));
    return *s;
}

} // namespace PipelineTestKit
