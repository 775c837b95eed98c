#pragma once

#include "eventcursor.h"
#include "result.h"

#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>

namespace Core {

// One document of the pg_events output format (docs/pg_events.md), version 1.
struct PgEvent
{
    enum class Op { Begin, Commit, Insert, Update, Delete, Truncate, Message };

    Op op = Op::Insert;
    int version = 1;
    quint64 lsn = 0;          // commit LSN (start of the commit record)
    quint64 endLsn = 0;       // begin/commit only: end of the commit record
    quint32 seq = 0;          // changes and messages: position in the transaction
    quint64 xid = 0;
    QString commitTime;       // RFC 3339, UTC, microseconds, as the plugin wrote it
    QString schema;
    QString table;
    quint32 relid = 0;        // the table's OID (0 from servers older than pg_events 1.1)
    QStringList primaryKey;
    QJsonObject newTuple;     // insert/update
    QJsonObject oldTuple;     // update/delete, per replica identity (empty when absent)
    bool hasOld = false;
    QStringList unchangedToast;
    QString channel;          // message
    QJsonValue payload;       // message
    int count = 0;            // commit: changes in the transaction
    bool cascade = false;     // truncate
    bool restartIdentity = false;

    EventCursor cursor() const { return {lsn, seq}; }
    bool isChange() const { return op == Op::Insert || op == Op::Update || op == Op::Delete || op == Op::Truncate; }
    QString qualifiedTable() const { return schema + u'.' + table; }
    static QString opName(Op op);
};

// The only decoder of the pg_events wire format. Strict: a document that does not have
// the documented shape is an error, never a half-filled event.
//
// Embedded JSON (json/jsonb columns, message payloads) may hold numbers Qt cannot
// represent: beyond a double's range (1e400) or integers beyond 64 bits. They are
// kept exactly, as strings holding their JSON text, instead of failing the document
// or rounding the value.
class PgEventDecoder
{
public:
    static constexpr int SupportedVersion = 1;
    static Result<PgEvent> decode(QByteArrayView document);
    // The document with every number Qt would reject or round turned into a string of
    // its text; the input itself when there is none. Exposed for tests.
    static QByteArray preserveBigNumbers(QByteArrayView document, bool *changed = nullptr);
};

} // namespace Core
