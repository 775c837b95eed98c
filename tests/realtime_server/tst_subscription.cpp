#include "pipelinetestkit.h"

#include <QTest>

using namespace Core;
using namespace Realtime;
using namespace PipelineTestKit;
using Op = PgEvent::Op;
using Kind = Subscription::Verdict::Kind;

Q_DECLARE_METATYPE(Realtime::Subscription::Verdict::Kind)

// What one event means for one subscription: operations x filter x projection x delete
// rule x row-level security, and the frame it becomes.
class TestSubscription : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void judge_data();
    void judge();
    void frames();
    void channel();
    void rebind();
};

static PgEvent keyOnlyDelete(int id)
{
    PgEvent e = change(Op::Delete, 100, id, {}, {});
    e.oldTuple = {{u"id"_qs, id}};
    return e;
}

static PgEvent indexDelete()
{
    // REPLICA IDENTITY USING INDEX on (owner): the old row is that column only.
    PgEvent e = change(Op::Delete, 100, 0, {}, {});
    e.oldTuple = {{u"owner"_qs, u"bob"_qs}};
    return e;
}

void TestSubscription::judge_data()
{
    QTest::addColumn<bool>("rls");
    QTest::addColumn<QString>("filter");
    QTest::addColumn<int>("events");     // EventMask
    QTest::addColumn<PgEvent>("event");
    QTest::addColumn<Kind>("verdict");
    QTest::addColumn<QString>("judged"); // the owner in the checked image

    const auto ins = change(Op::Insert, 100, 1, u"alice"_qs);
    const auto upd = change(Op::Update, 100, 1, u"alice"_qs);
    const auto del = change(Op::Delete, 100, 1, u"bob"_qs, u"gone"_qs);
    PgEvent other = ins;
    other.relid = 101;
    PgEvent truncate = ins;
    truncate.op = Op::Truncate;
    truncate.newTuple = {};
    QTest::newRow("public insert") << false << QString() << int(WantAll) << ins << Kind::Deliver << QString();
    QTest::newRow("another table (by oid)") << false << QString() << int(WantAll) << other << Kind::Skip << QString();
    QTest::newRow("op not wanted") << false << QString() << int(WantUpdate) << ins << Kind::Skip << QString();
    QTest::newRow("filter misses") << false << u"owner=eq.bob"_qs << int(WantAll) << ins << Kind::Skip << QString();
    QTest::newRow("filter matches") << false << u"owner=eq.alice"_qs << int(WantAll) << upd << Kind::Deliver << QString();
    QTest::newRow("rls insert is checked") << true << QString() << int(WantAll) << ins << Kind::Check << u"alice"_qs;
    QTest::newRow("rls: filter first") << true << u"owner=eq.bob"_qs << int(WantAll) << ins << Kind::Skip << QString();
    QTest::newRow("public delete, full old row") << false << u"body=eq.gone"_qs << int(WantAll) << del << Kind::Deliver << QString();
    QTest::newRow("public delete, filter on old row") << false << u"body=eq.other"_qs << int(WantAll) << del << Kind::Skip << QString();
    QTest::newRow("rls delete with the whole old row: checked on it") << true << QString() << int(WantAll) << del << Kind::Check << u"bob"_qs;
    QTest::newRow("rls delete, key only: delivered") << true << QString() << int(WantAll) << keyOnlyDelete(3) << Kind::Deliver << QString();
    QTest::newRow("key only: non-key filter ignored") << true << u"body=eq.x"_qs << int(WantAll) << keyOnlyDelete(3) << Kind::Deliver << QString();
    QTest::newRow("key only: key filter judged") << true << u"id=eq.4"_qs << int(WantAll) << keyOnlyDelete(3) << Kind::Skip << QString();
    QTest::newRow("delete not wanted") << true << QString() << int(WantInsert) << keyOnlyDelete(3) << Kind::Skip << QString();
    QTest::newRow("using index delete") << true << QString() << int(WantAll) << indexDelete() << Kind::Deliver << QString();
    QTest::newRow("truncate reaches everyone") << true << u"owner=eq.nobody"_qs << int(WantInsert) << truncate << Kind::Deliver << QString();
}

void TestSubscription::judge()
{
    QFETCH(bool, rls);
    QFETCH(QString, filter);
    QFETCH(int, events);
    QFETCH(PgEvent, event);
    QFETCH(Kind, verdict);
    QFETCH(QString, judged);
    FakeSink sink(u"alice"_qs);
    ClientMessage m = tableMessage(u"s"_qs, filter);
    m.events = unsigned(events);
    auto sub = Subscription::forTable(m, std::make_shared<const TableInfo>(table(100, rls)), &sink);
    QVERIFY(sub);
    const auto entry = WindowEntry::make(event, u"T"_qs, 1000, 0, 10);
    const auto v = (*sub)->judge(*entry);
    QCOMPARE(v.kind, verdict);
    if (verdict == Kind::Check)
        QCOMPARE(v.image.value(u"owner"_qs).toString(), judged);
}

void TestSubscription::frames()
{
    FakeSink sink(u"alice"_qs);
    ClientMessage m = tableMessage(u"sub-1"_qs);
    m.select = {u"id"_qs, u"body"_qs};
    auto pub = *Subscription::forTable(m, std::make_shared<const TableInfo>(table(100, false)), &sink);
    auto rls = *Subscription::forTable(tableMessage(u"r"_qs), std::make_shared<const TableInfo>(table(100, true)), &sink);
    auto parse = [](const QByteArray &f) { return QJsonDocument::fromJson(f).object(); };

    PgEvent upd = change(Op::Update, 100, 1, u"alice"_qs, u"new"_qs);
    upd.oldTuple = {{u"id"_qs, 1}, {u"owner"_qs, u"bob"_qs}, {u"body"_qs, u"bob's"_qs}};
    upd.hasOld = true;
    const auto e = WindowEntry::make(upd, u"2026-12-04T00:00:00Z"_qs, 1000, 0, 10);
    QHash<QString, QByteArray> cache;
    const QJsonObject a = parse(pub->frame(*e, &cache));
    QCOMPARE(a.value(u"type"_qs).toString(), u"change"_qs);
    QCOMPARE(a.value(u"sub"_qs).toString(), u"sub-1"_qs);
    QCOMPARE(a.value(u"op"_qs).toString(), u"update"_qs);
    QCOMPARE(a.value(u"table"_qs).toString(), u"public.t"_qs);
    QCOMPARE(a.value(u"record"_qs).toObject().keys(), (QStringList{u"body"_qs, u"id"_qs}));
    QCOMPARE(a.value(u"old_record"_qs).toObject().value(u"body"_qs).toString(), u"bob's"_qs); // public table: projected old row
    // Under RLS the previous version is the key only: it may not have been hers to see.
    const QJsonObject b = parse(rls->frame(*e, &cache));
    QCOMPARE(b.value(u"old_record"_qs).toObject(), (QJsonObject{{u"id"_qs, 1}}));
    QCOMPARE(b.value(u"record"_qs).toObject().size(), 3);
    QCOMPARE(cache.size(), 2); // one body per projection, shared by its subscribers
    // A key-only delete keeps the key as the replica identity gives it (USING INDEX too).
    const auto d = WindowEntry::make(indexDelete(), {}, 2000, 0, 10);
    QCOMPARE(parse(rls->frame(*d)).value(u"old_record"_qs).toObject(), (QJsonObject{{u"owner"_qs, u"bob"_qs}}));
    QVERIFY(parse(rls->frame(*d)).value(u"record"_qs).isNull());
    // Truncate is its own message type.
    PgEvent t = change(Op::Insert, 100, 1, {});
    t.op = Op::Truncate;
    const QJsonObject tr = parse(pub->frame(*WindowEntry::make(t, {}, 3000, 0, 10)));
    QCOMPARE(tr.value(u"type"_qs).toString(), u"truncate"_qs);
    QCOMPARE(tr.value(u"table"_qs).toString(), u"public.t"_qs);
    QVERIFY(!tr.contains(u"record"_qs));
    // unchanged_toast only lists columns in the projection.
    PgEvent toast = change(Op::Update, 100, 1, u"alice"_qs);
    toast.newTuple.remove(u"owner"_qs);
    toast.unchangedToast = {u"owner"_qs};
    QVERIFY(!parse(pub->frame(*WindowEntry::make(toast, {}, 4000, 0, 10))).contains(u"unchanged_toast"_qs));
    QCOMPARE(parse(rls->frame(*WindowEntry::make(toast, {}, 4000, 0, 10))).value(u"unchanged_toast"_qs).toArray(),
             QJsonArray{u"owner"_qs});
}

void TestSubscription::channel()
{
    FakeSink sink(u"alice"_qs);
    ClientMessage m;
    m.id = u"c"_qs;
    m.isChannel = true;
    m.channel = u"orders"_qs;
    auto sub = Subscription::forChannel(m, &sink);
    const auto hit = WindowEntry::make(message(u"orders"_qs, QJsonObject{{u"n"_qs, 1}}), u"T"_qs, 1, 0, 1);
    const auto miss = WindowEntry::make(message(u"other"_qs, 1), u"T"_qs, 1, 0, 1);
    QCOMPARE(sub->judge(*hit).kind, Kind::Deliver);
    QCOMPARE(sub->judge(*miss).kind, Kind::Skip);
    QCOMPARE(sub->judge(*WindowEntry::make(change(Op::Insert, 100, 1, u"a"_qs), {}, 1, 0, 1)).kind, Kind::Skip);
    const QJsonObject f = QJsonDocument::fromJson(sub->frame(*hit)).object();
    QCOMPARE(f.value(u"type"_qs).toString(), u"event"_qs);
    QCOMPARE(f.value(u"payload"_qs).toObject().value(u"n"_qs).toInt(), 1);
}

void TestSubscription::rebind()
{
    FakeSink sink(u"alice"_qs);
    ClientMessage m = tableMessage(u"s"_qs, u"body=eq.x"_qs);
    m.select = {u"id"_qs};
    auto sub = *Subscription::forTable(m, std::make_shared<const TableInfo>(table(100, false)), &sink);
    TableInfo grown = table(100, true);
    grown.columnOrder << u"extra"_qs;
    grown.columns.insert(u"extra"_qs, TypeCategory::Text);
    QVERIFY(!sub->rebind(std::make_shared<const TableInfo>(grown)));
    QVERIFY(sub->rowSecurity());
    TableInfo shrunk = table(100, false);
    shrunk.columns.remove(u"body"_qs);
    const auto e = sub->rebind(std::make_shared<const TableInfo>(shrunk));
    QVERIFY(e);
    QCOMPARE(e->code, u"invalid_filter"_qs);
}

QTEST_APPLESS_MAIN(TestSubscription)
#include "tst_subscription.moc"
