#pragma once

#include "clientmessage.h"
#include "identity.h"
#include "replaywindow.h"
#include "rowfilter.h"
#include "tableinfo.h"

#include <QByteArray>
#include <QHash>

#include <memory>
#include <optional>
#include <vector>

namespace Realtime {

// Where a subscription's frames go: a client connection (Session) in the server, a
// recorder in unit tests.
class SubscriberSink
{
public:
    virtual ~SubscriberSink() = default;
    virtual const Identity &identity() const = 0;
    // false: the connection is closing (slow consumer, gone): send nothing more.
    virtual bool sendFrame(const QByteArray &frame) = 0;
    // Ends one subscription with an error message; the connection stays open.
    // `ref`: the subscribe request this answers, when it ends before it started.
    virtual void endSubscription(const QString &id, const QString &code, const QString &message, const QString &ref = {}) = 0;
};

// One client subscription to a table's changes or a channel's events, with the rules of
// what it receives: operations, filter, projection, and how row-level security applies.
class Subscription
{
public:
    enum class State { Pending, Replaying, Live, Closed };

    // What one event means for this subscription.
    struct Verdict
    {
        enum class Kind { Skip, Deliver, Check, Withhold };
        Kind kind = Kind::Skip;
        // Check: the row image row-level security judges (the new row of an insert or
        // update, the complete old row of a delete).
        QJsonObject image;
    };

    // A table subscription; `info` must be the table's current catalog facts.
    static Core::Result<std::shared_ptr<Subscription>> forTable(const ClientMessage &m, std::shared_ptr<const TableInfo> info,
                                                                SubscriberSink *sink);
    static std::shared_ptr<Subscription> forChannel(const ClientMessage &m, SubscriberSink *sink);

    // `filter` false judges as if there were no filter (to measure what filtering before
    // the row-level-security check saves).
    Verdict judge(const WindowEntry &entry, bool filter = true) const;
    // The message for an event that passed judge() (and its check). `cache` keeps the
    // serialized body per projection within one delivery pass: an event is serialized
    // once for every subscriber that sees the same columns.
    QByteArray frame(const WindowEntry &entry, QHash<QString, QByteArray> *cache = nullptr) const;
    // The notice for an event judge() withheld.
    QByteArray withheldNotice(const WindowEntry &entry) const;
    // The table changed (columns, name, RLS): keep the subscription if its filter and
    // projection still fit, else say why not.
    std::optional<Core::Error> rebind(std::shared_ptr<const TableInfo> info);

    const QString &id() const { return m_id; }
    bool isChannel() const { return m_isChannel; }
    const QString &channel() const { return m_channel; }
    const QString &tableName() const { return m_tableName; }   // as the client named it
    quint32 relid() const { return m_info ? m_info->relid : 0; }
    const std::shared_ptr<const TableInfo> &info() const { return m_info; }
    const Core::RowFilter &filter() const { return m_filter; }
    bool rowSecurity() const { return m_info && m_info->rowSecurity; }

    SubscriberSink *sink = nullptr;
    State state = State::Pending;
    std::optional<Core::EventCursor> since;
    // Never send an event at or before this cursor again (at-least-once upstream, replay
    // and live overlapping after a restart).
    Core::EventCursor lastSent;
    // Live frames that arrive while a replay is prepared; sent right after it.
    std::vector<std::pair<Core::EventCursor, QByteArray>> buffered;
    qint64 bufferedBytes = 0;

private:
    QJsonObject project(const QJsonObject &row) const;
    QJsonObject keyOf(const QJsonObject &old) const;

    QString m_id;
    QByteArray m_idJson;          // the id as a JSON string
    bool m_isChannel = false;
    QString m_channel;
    QString m_tableName;
    std::shared_ptr<const TableInfo> m_info;
    Core::RowFilter m_filter;
    QString m_filterText;
    QStringList m_select;
    QString m_variant;            // cache key of the projection
    unsigned m_events = WantAll;
};

} // namespace Realtime
