// The JS client (resources/js/pg_events_ws.js) against the real pg_events_ws, started
// by `pgext dev` on a throwaway todo project with its own PostgreSQL cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { PgEventsClient, cursorAfter } from '../../resources/js/pg_events_ws.js';
import { claims, createProject, sleep, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

test('pgext init places the canonical client into frontend/', async () => {
  const project = await createProject('jsclient');
  const canonical = fs.readFileSync(path.join(repo, 'resources/js/pg_events_ws.js'), 'utf8');
  const placed = fs.readFileSync(path.join(project.root, 'frontend/pg_events_ws.js'), 'utf8');
  assert.equal(placed, canonical, 'the project must get resources/js/pg_events_ws.js as it is');
});

// A scripted WebSocket, only for what a real server cannot be made to do on demand:
// resend frames the client already has (it happens after a crash, not when asked).
// Everything else below runs against the real pg_events_ws.
class FakeSocket {
  static last = null;
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; FakeSocket.last = this;
    setTimeout(() => { this.readyState = 1; this.serverSays({ type: 'welcome', protocol: 1, server: 'fake', cursor: '0000000000000010.00000000' }); }, 0); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; if (this.onclose) this.onclose({ code: 1000, reason: '' }); }
  serverSays(msg) { if (this.onmessage) this.onmessage({ data: JSON.stringify(msg) }); }
}

describe('client logic (scripted server)', () => {
  test('drops duplicates and older cursors, keeps order', async () => {
    const client = new PgEventsClient('ws://fake', { WebSocket: FakeSocket });
    const got = [];
    const sub = client.subscribe({ table: 'public.tasks', id: 'a' }, { onChange: (c) => got.push(c.cursor) });
    client.connect();
    await waitFor(() => FakeSocket.last && FakeSocket.last.sent.some((m) => m.type === 'subscribe'));
    const ws = FakeSocket.last;
    ws.serverSays({ type: 'subscribed', id: 'a', cursor: '0000000000000010.00000000' });
    const change = (c) => ({ type: 'change', sub: 'a', cursor: c, op: 'insert', table: 'public.tasks', record: { id: 1 }, old_record: null });
    for (const c of ['0000000000000011.00000000', '0000000000000011.00000000', '0000000000000011.00000001',
                     '0000000000000010.00000005', '0000000000000012.00000000'])
      ws.serverSays(change(c));
    assert.deepEqual(got, ['0000000000000011.00000000', '0000000000000011.00000001', '0000000000000012.00000000']);
    assert.equal(sub.cursor, '0000000000000012.00000000');
    // A reconnect resumes from the last delivered cursor.
    ws.close();
    await waitFor(() => FakeSocket.last !== ws && FakeSocket.last.sent.some((m) => m.type === 'subscribe'), { timeoutMs: 3000 });
    const resubscribe = FakeSocket.last.sent.find((m) => m.type === 'subscribe');
    assert.equal(resubscribe.since, '0000000000000012.00000000');
    client.close();
  });

  test('unavailable and stream_error: subscribe again later, from the cursor; truncate and row_withheld: resync', async () => {
    // The server answers these when PostgreSQL is away or delivery stopped: not on demand.
    const client = new PgEventsClient('ws://fake', { WebSocket: FakeSocket, retrySubscribeMs: 50, retryStreamErrorMs: 80 });
    const errors = [];
    const resyncs = [];
    const truncates = [];
    client.subscribe({ table: 'public.tasks', id: 'u' }, { onError: (e) => errors.push(e.code), onResync: (s, m) => resyncs.push(m && m.code) });
    client.subscribe({ table: 'public.tasks', id: 't' }, { onTruncate: (m) => truncates.push(m.cursor) });
    client.connect();
    await waitFor(() => FakeSocket.last && FakeSocket.last.sent.filter((m) => m.type === 'subscribe').length === 2);
    const ws = FakeSocket.last;
    ws.serverSays({ type: 'subscribed', id: 'u', cursor: '0000000000000010.00000000' });
    ws.serverSays({ type: 'change', sub: 'u', cursor: '0000000000000011.00000000', op: 'insert', record: { id: 1 }, old_record: null });
    ws.serverSays({ type: 'error', id: 'u', code: 'unavailable', message: 'the server cannot reach the database' });
    await waitFor(() => ws.sent.filter((m) => m.type === 'subscribe' && m.id === 'u').length === 2, { what: 'a second subscribe' });
    assert.equal(ws.sent.filter((m) => m.id === 'u').pop().since, '0000000000000011.00000000');
    ws.serverSays({ type: 'error', id: 'u', code: 'stream_error', message: 'delivery stopped' });
    await waitFor(() => ws.sent.filter((m) => m.type === 'subscribe' && m.id === 'u').length === 3, { what: 'a third subscribe' });
    assert.deepEqual(errors, ['unavailable', 'stream_error']);
    ws.serverSays({ type: 'error', id: 'u', code: 'row_withheld', cursor: '0000000000000012.00000000', message: 'refetch' });
    assert.deepEqual(resyncs, ['row_withheld']);
    ws.serverSays({ type: 'truncate', sub: 't', cursor: '0000000000000013.00000000', table: 'public.tasks' });
    assert.deepEqual(truncates, ['0000000000000013.00000000']);
    client.close();
  });

  test('cursorAfter compares cursors as strings', () => {
    assert.ok(cursorAfter('0000000000000002.00000000', '0000000000000001.ffffffff'));
    assert.ok(!cursorAfter('0000000000000001.00000000', '0000000000000001.00000000'));
    assert.ok(cursorAfter('0000000000000001.00000000', null));
  });
});

describe('against pg_events_ws (pgext dev)', () => {
  let project;
  let tokenA;
  let tokenB;
  const clients = [];
  const open = (token, opts = {}) => {
    const c = new PgEventsClient(project.realtimeUrl, { getToken: () => token, ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    project = await createProject('jsclient');
    await project.start(['--no-frontend']);
    tokenA = await project.signup('a@example.com');
    tokenB = await project.signup('b@example.com');
  });

  after(async () => {
    for (const c of clients) c.close();
    if (project) await project.destroy();
  });

  test('auth, subscribe, insert/update/delete, unsubscribe', async () => {
    const client = open(tokenA);
    const changes = [];
    let subscribed = null;
    const sub = client.subscribe({ table: 'public.tasks' }, {
      onSubscribed: (s) => { subscribed = s; },
      onChange: (c) => changes.push(c),
    });
    client.connect();
    await waitFor(() => subscribed, { what: 'subscribed' });
    assert.equal(client.role, 'todo_user');
    // One step at a time: an insert or update of a row that is already gone when the
    // server checks RLS is (rightly) not delivered.
    const task = await project.addTask(tokenA, 'buy milk');
    await waitFor(() => changes.length >= 1, { what: 'the insert' });
    await project.api('/rpc/complete_task', { method: 'POST', token: tokenA, body: { task_id: task.id } });
    await waitFor(() => changes.length >= 2, { what: 'the update' });
    await project.api(`/tasks?id=eq.${task.id}`, { method: 'DELETE', token: tokenA });
    await waitFor(() => changes.length >= 3, { what: 'the delete' });
    assert.deepEqual(changes.map((c) => c.op), ['insert', 'update', 'delete']);
    assert.equal(changes[0].record.title, 'buy milk');
    assert.equal(changes[1].record.done, true);
    assert.equal(changes[2].old_record.id, task.id);
    assert.ok(cursorAfter(changes[1].cursor, changes[0].cursor) && cursorAfter(changes[2].cursor, changes[1].cursor));
    // A second subscription on the same connection sees the next insert; by then the
    // unsubscribed one would have had it too (one delivery pass per change).
    const watched = [];
    let watching = false;
    client.subscribe({ table: 'public.tasks' }, { onSubscribed: () => { watching = true; }, onChange: (c) => watched.push(c) });
    await waitFor(() => watching, { what: 'the watcher' });
    await sub.unsubscribe();
    const after = await project.addTask(tokenA, 'after unsubscribe');
    await waitFor(() => watched.some((c) => c.record && c.record.id === after.id), { what: 'the watcher got it' });
    assert.equal(changes.length, 3);
  });

  test("row-level security: B never receives A's tasks", async () => {
    const a = open(tokenA);
    const b = open(tokenB);
    const seenA = [];
    const seenB = [];
    let live = 0;
    a.subscribe({ table: 'public.tasks' }, { onSubscribed: () => live++, onChange: (c) => seenA.push(c) });
    b.subscribe({ table: 'public.tasks' }, { onSubscribed: () => live++, onChange: (c) => seenB.push(c) });
    a.connect();
    b.connect();
    await waitFor(() => live === 2, { what: 'both subscribed' });
    const task = await project.addTask(tokenA, 'secret of A');
    await waitFor(() => seenA.length >= 1, { what: "A's insert" });
    await project.api(`/tasks?id=eq.${task.id}`, { method: 'DELETE', token: tokenA });
    const mine = await project.addTask(tokenB, 'B owns this');
    await waitFor(() => seenA.length >= 2 && seenB.length >= 1, { what: 'deliveries' });
    // A later change of B's own is delivered after everything before it.
    const marker = await project.addTask(tokenB, 'marker of B');
    await waitFor(() => seenB.some((c) => c.record && c.record.id === marker.id), { what: "B's marker" });
    seenB.splice(seenB.findIndex((c) => c.record && c.record.id === marker.id), 1);
    // B gets its own insert; of A's rows at most a delete carrying only the primary key
    // (RLS tables: the server cannot check a row that no longer exists).
    assert.deepEqual(seenB.filter((c) => c.op !== 'delete').map((c) => c.record.id), [mine.id]);
    for (const c of seenB.filter((c) => c.op === 'delete'))
      assert.deepEqual(Object.keys(c.old_record), ['id'], 'a delete of an RLS row reveals only its key');
    assert.ok(seenB.every((c) => !c.record || c.record.id !== task.id));
  });

  test('token refresh on an open connection', async () => {
    const client = open(tokenA);
    let subscribed = false;
    client.subscribe({ table: 'public.tasks' }, { onSubscribed: () => { subscribed = true; } });
    client.connect();
    await waitFor(() => subscribed);
    const before = client.tokenExp;
    // A token minted in a later second (a new exp): ask until the login gives one.
    const token = await waitFor(async () => {
      const { token: t } = await project.api('/rpc/login', { method: 'POST', body: { email: 'a@example.com', password: 'correct horse battery' } });
      return claims(t).exp > before ? t : null;
    }, { intervalMs: 100, what: 'a token with a later exp' });
    assert.equal(claims(token).sub, claims(tokenA).sub);
    client.setToken(token);
    await waitFor(() => client.tokenExp && client.tokenExp > before, { what: 'auth_ok for the new token' });
  });

  test('server killed mid-stream: reconnect, resume, no gap, no duplicate', async () => {
    const statuses = [];
    const client = open(tokenA, { onStatus: (s) => statuses.push(s), initialBackoffMs: 100, maxBackoffMs: 1000 });
    const received = [];
    let resyncs = 0;
    let subscribed = false;
    client.subscribe({ table: 'public.tasks', events: ['insert'] }, {
      onSubscribed: () => { subscribed = true; },
      onResync: () => resyncs++,
      onChange: (c) => received.push(c),
    });
    client.connect();
    await waitFor(() => subscribed);

    const inserted = [];
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        inserted.push((await project.addTask(tokenA, `stream ${n++}`)).id);
        await sleep(15);
      }
    })();
    await waitFor(() => received.length >= 20, { what: 'stream flowing' });
    const pid = project.servicePid('realtime');
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => project.servicePid('realtime') !== pid, { timeoutMs: 10000, what: 'pgext dev to restart pg_events_ws' });
    await waitFor(() => statuses.includes('reconnecting'), { what: 'client noticed' });
    await waitFor(async () => client.status === 'open' && await project.health(project.ports.realtime), { timeoutMs: 15000, what: 'reconnected' });
    const atReconnect = received.length;
    await waitFor(() => received.length >= atReconnect + 10, { what: 'live changes after the reconnect' });
    writing = false;
    await writer;
    await waitFor(() => received.length >= inserted.length, { timeoutMs: 10000, what: `all ${inserted.length} inserts` })
      .catch((e) => {
        const got = new Set(received.map((c) => c.record.id));
        throw new Error(`${e.message}; resyncs ${resyncs}; missing ${inserted.filter((id) => !got.has(id)).join(',')}; statuses ${statuses.join(',')}`);
      });
    const ids = received.map((c) => c.record.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.deepEqual([...ids].sort((x, y) => x - y), [...inserted].sort((x, y) => x - y), 'no gap');
    for (let i = 1; i < received.length; i++) assert.ok(cursorAfter(received[i].cursor, received[i - 1].cursor), 'cursor order');
    assert.equal(resyncs, 0, 'resumed from the cursor, no resync needed');
  });

});

describe('cursor_too_old from a server with a tiny replay window', () => {
  let project;
  let client;
  before(async () => {
    project = await createProject('jswindow');
    await project.start(['--no-frontend'], { PG_EVENTS_WS_WINDOW_MAX_EVENTS: '3' });
  });
  after(async () => {
    if (client) client.close();
    if (project) await project.destroy();
  });

  test('a cursor the server no longer holds: resync, then live', async () => {
    const token = await project.signup('w@example.com');
    const first = [];
    const c1 = new PgEventsClient(project.realtimeUrl, { token });
    let ready = false;
    c1.subscribe({ table: 'public.tasks' }, { onSubscribed: () => { ready = true; }, onChange: (c) => first.push(c) });
    c1.connect();
    await waitFor(() => ready, { what: 'subscribed' });
    await project.addTask(token, 'one');
    await waitFor(() => first.length === 1, { what: 'first change' });
    const old = first[0].cursor;
    c1.close();
    // A watcher sees the last of them: the server has processed (and evicted) the rest.
    const seen = [];
    let watching = false;
    const watcher = new PgEventsClient(project.realtimeUrl, { token });
    watcher.subscribe({ table: 'public.tasks' }, { onSubscribed: () => { watching = true; }, onChange: (c) => seen.push(c) });
    watcher.connect();
    await waitFor(() => watching, { what: 'the watcher' });
    for (let i = 0; i < 6; i++) await project.addTask(token, `more ${i}`); // pushes `old` out of the window
    await waitFor(() => seen.length === 6, { what: 'the six inserts processed' });
    watcher.close();
    let resynced = 0;
    const changes = [];
    client = new PgEventsClient(project.realtimeUrl, { token });
    client.subscribe({ table: 'public.tasks', since: old }, { onResync: () => resynced++, onChange: (c) => changes.push(c) });
    client.connect();
    await waitFor(() => resynced === 1, { what: 'onResync' });
    const task = await project.addTask(token, 'after resync');
    await waitFor(() => changes.some((c) => c.record && c.record.id === task.id), { what: 'live change after resync' });
  });
});
