// pg_events_ws.js — browser and Node client for the pg_events_ws protocol v1
// (docs/PROTOCOL.md). Plain ES module, no dependencies, no build step.
//
//   import { PgEventsClient } from './pg_events_ws.js';
//   const client = new PgEventsClient('ws://127.0.0.1:8090', { getToken: async () => token });
//   const sub = client.subscribe({ table: 'public.tasks' }, {
//     onChange: (change) => { ... },     // insert/update/delete, in cursor order, no duplicates
//     onResync: () => refetchEverything(), // history lost (cursor_too_old), a truncate, or a
//                                          // change the server could not check (row_withheld)
//     onError: (e) => { ... },           // the subscription ended: forbidden, check_failed, ...
//   });
//   client.connect();
//   ...; sub.unsubscribe(); client.close();
//
// The client reconnects with exponential backoff, re-authenticates (asking getToken for a
// fresh token), resumes every subscription from the last cursor it delivered, drops
// duplicates by cursor (delivery is at-least-once), refreshes the token before it
// expires, turns cursor_too_old into a fresh subscription plus onResync, and subscribes
// again (with its cursor) after `unavailable`, `rate_limited` and `stream_error`.
// The one copy: `pgext init` places it into a new project's frontend/.

export const PROTOCOL_VERSION = 1;

const DEFAULTS = {
  initialBackoffMs: 250,
  maxBackoffMs: 10000,
  backoffFactor: 2,
  jitter: 0.2,
  pingIntervalMs: 20000,
  pongTimeoutMs: 10000,
  refreshBeforeExpirySeconds: 60,
  retrySubscribeMs: 2000,      // after unavailable / rate_limited
  retryStreamErrorMs: 15000,   // after stream_error (the server stopped delivery)
};

// Errors after which a subscription is tried again later, resuming from its cursor.
const RETRY_LATER = { unavailable: 'retrySubscribeMs', rate_limited: 'retrySubscribeMs', stream_error: 'retryStreamErrorMs' };

// Cursors are fixed-width lower-case hex: string order is cursor order.
export function cursorAfter(a, b) {
  if (!b) return !!a;
  if (!a) return false;
  return a > b;
}

let nextClientId = 0;

export class PgEventsClient {
  /**
   * @param {string} url  ws:// or wss:// URL of pg_events_ws
   * @param {object} [options]
   * @param {string} [options.token]  a JWT (or use getToken)
   * @param {() => (string|null|Promise<string|null>)} [options.getToken]  called before each
   *        (re)connect and before the token expires; return null to stay anonymous
   * @param {Function} [options.WebSocket]  constructor (default: globalThis.WebSocket)
   * @param {(status: string, detail?: object) => void} [options.onStatus]
   *        'connecting' | 'open' | 'reconnecting' | 'closed'
   * @param {(error: object) => void} [options.onError]  connection-level errors
   */
  constructor(url, options = {}) {
    this.url = url;
    this.options = { ...DEFAULTS, ...options };
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    if (!this.WebSocket) throw new Error('pg_events_ws: no WebSocket implementation (pass options.WebSocket)');
    this.token = options.token || null;
    this.status = 'closed';
    this.role = null;
    this.tokenExp = null;
    this.serverCursor = null;
    this._subs = new Map();
    this._ws = null;
    this._wanted = false;
    this._attempt = 0;
    this._timers = new Set();
    this._refs = 0;
    this._pending = new Map();
    this._ready = false;
    this._lastMessageAt = 0;
    this._id = ++nextClientId;
  }

  /** Opens the connection (and keeps it open until close()). */
  connect() {
    if (this._wanted) return;
    this._wanted = true;
    this._open();
  }

  /** Closes for good: no reconnect. Subscriptions are kept and resume on a later connect(). */
  close() {
    this._wanted = false;
    this._clearTimers();
    if (this._ws) {
      const ws = this._ws;
      this._ws = null;
      try { ws.close(1000, 'client closed'); } catch { /* already closed */ }
    }
    this._ready = false;
    this._setStatus('closed');
  }

  /** Replaces the token; on an open connection it is sent at once (refresh). */
  setToken(token) {
    this.token = token;
    if (this._ready && token) this._send({ type: 'auth', token }, true).catch(() => {});
  }

  /**
   * Subscribes to a table ({table, filter, events, select}) or a channel ({channel}).
   * `since` resumes after a cursor you stored. Returns {id, cursor, unsubscribe()}.
   * handlers: onChange(change), onEvent(event), onSubscribed({id, cursor}),
   *           onResync(sub) after cursor_too_old, onError(error)
   */
  subscribe(spec, handlers = {}) {
    const id = spec.id || `s${this._id}_${this._subs.size + 1}_${Math.random().toString(36).slice(2, 8)}`;
    if (this._subs.has(id)) throw new Error(`pg_events_ws: subscription id ${id} is in use`);
    const sub = {
      id,
      spec: { ...spec, id: undefined, since: undefined },
      handlers,
      cursor: spec.since || null, // last cursor delivered (or the live point)
      live: false,
      active: true,
      unsubscribe: () => this._unsubscribe(sub),
    };
    this._subs.set(id, sub);
    if (this._ready) this._sendSubscribe(sub);
    return sub;
  }

  // ---- internals -------------------------------------------------------------------

  _setStatus(status, detail) {
    if (this.status === status) return;
    this.status = status;
    if (this.options.onStatus) this.options.onStatus(status, detail);
  }

  _timer(fn, ms) {
    const t = setTimeout(() => { this._timers.delete(t); fn(); }, ms);
    this._timers.add(t);
    return t;
  }

  _clearTimers() {
    for (const t of this._timers) clearTimeout(t);
    this._timers.clear();
    if (this._pingTimer) { clearInterval(this._pingTimer); this._pingTimer = null; }
    this._refreshTimer = null;
  }

  async _freshToken() {
    if (!this.options.getToken) return this.token;
    try {
      const t = await this.options.getToken();
      if (t !== undefined) this.token = t;
    } catch (e) {
      this._emitError({ code: 'token_refresh_failed', message: String(e && e.message || e) });
    }
    return this.token;
  }

  async _open() {
    if (!this._wanted) return;
    this._setStatus(this._attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this._attempt });
    await this._freshToken();
    if (!this._wanted) return;
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (e) {
      this._scheduleReconnect({ code: 'connect_failed', message: String(e && e.message || e) });
      return;
    }
    this._ws = ws;
    this._ready = false;
    ws.onmessage = (ev) => { if (this._ws === ws) this._onMessage(ev.data); };
    const closed = (code, reason) => {
      if (this._ws !== ws) return; // handled already
      this._ws = null;
      this._ready = false;
      for (const sub of this._subs.values()) sub.live = false;
      for (const [, p] of this._pending) p.reject(new Error('connection closed'));
      this._pending.clear();
      this._scheduleReconnect({ code: 'closed', message: `closed (${code}${reason ? ': ' + reason : ''})` });
    };
    ws.onclose = (ev) => closed(ev.code, ev.reason);
    // Some implementations (Node 20's) report a refused connection with an error and no
    // close event: treat an error before the socket opened as a close.
    ws.onerror = () => {
      if (ws.readyState !== 1) {
        closed(1006, 'connection failed');
        try { ws.close(); } catch { /* never opened */ }
      }
    };
  }

  _scheduleReconnect(reason) {
    if (this._pingTimer) { clearInterval(this._pingTimer); this._pingTimer = null; }
    if (!this._wanted) { this._setStatus('closed'); return; }
    const o = this.options;
    const base = Math.min(o.maxBackoffMs, o.initialBackoffMs * Math.pow(o.backoffFactor, this._attempt));
    const delay = Math.round(base * (1 + (Math.random() * 2 - 1) * o.jitter));
    this._attempt++;
    this._setStatus('reconnecting', { attempt: this._attempt, delayMs: delay, reason });
    this._timer(() => this._open(), delay);
  }

  _send(message, expectReply = false) {
    if (!this._ws || this._ws.readyState !== 1) return Promise.reject(new Error('not connected'));
    let promise = Promise.resolve(null);
    if (expectReply) {
      message = { ...message, ref: `r${++this._refs}` };
      promise = new Promise((resolve, reject) => this._pending.set(message.ref, { resolve, reject }));
    }
    this._ws.send(JSON.stringify(message));
    return promise;
  }

  _emitError(error) {
    if (this.options.onError) this.options.onError(error);
  }

  _startPing() {
    if (this._pingTimer) clearInterval(this._pingTimer);
    this._lastMessageAt = Date.now();
    this._pingTimer = setInterval(() => {
      if (!this._ws) return;
      if (Date.now() - this._lastMessageAt > this.options.pingIntervalMs + this.options.pongTimeoutMs) {
        // A dead connection (laptop slept, proxy dropped it): reconnect and resume.
        try { this._ws.close(4000, 'ping timeout'); } catch { /* ignore */ }
        return;
      }
      this._send({ type: 'ping' }).catch(() => {});
    }, this.options.pingIntervalMs);
  }

  _scheduleRefresh() {
    if (!this.options.getToken || !this.tokenExp) return;
    const ms = (this.tokenExp - this.options.refreshBeforeExpirySeconds) * 1000 - Date.now();
    const t = this._timer(async () => {
      if (this._refreshTimer !== t) return;
      const token = await this._freshToken();
      if (token && this._ready) this._send({ type: 'auth', token }, true).catch(() => {});
    }, Math.max(1000, ms));
    this._refreshTimer = t;
  }

  async _onWelcome(msg) {
    this.serverCursor = msg.cursor;
    if (msg.protocol !== PROTOCOL_VERSION)
      this._emitError({ code: 'protocol_mismatch', message: `server speaks protocol ${msg.protocol}` });
    if (this.token) {
      try {
        await this._send({ type: 'auth', token: this.token }, true);
      } catch (e) {
        this._emitError({ code: e.code || 'unauthorized', message: e.message });
        // Let the next attempt ask getToken again.
        if (this._ws) try { this._ws.close(4001, 'auth failed'); } catch { /* ignore */ }
        return;
      }
    }
    this._ready = true;
    this._attempt = 0;
    this._startPing();
    this._setStatus('open');
    for (const sub of this._subs.values()) if (sub.active) this._sendSubscribe(sub);
  }

  _sendSubscribe(sub) {
    const m = { type: 'subscribe', id: sub.id };
    for (const k of ['table', 'channel', 'filter', 'events', 'select'])
      if (sub.spec[k] !== undefined && sub.spec[k] !== null) m[k] = sub.spec[k];
    sub.resumed = !!sub.cursor;
    if (sub.cursor) m.since = sub.cursor;
    this._send(m).catch(() => {});
  }

  // Resolves once the server confirmed it (nothing more arrives for it), or at once offline.
  _unsubscribe(sub) {
    if (!sub.active) return Promise.resolve();
    sub.active = false;
    this._subs.delete(sub.id);
    if (!this._ready) return Promise.resolve();
    return this._send({ type: 'unsubscribe', id: sub.id }, true).then(() => {}, () => {});
  }

  _deliver(sub, msg, handler) {
    // At-least-once delivery: drop anything not after the last cursor we handed out.
    if (sub.cursor && !cursorAfter(msg.cursor, sub.cursor)) return;
    sub.cursor = msg.cursor;
    if (handler) {
      try { handler(msg, sub); } catch (e) { console.error('pg_events_ws handler failed', e); }
    }
  }

  _onMessage(data) {
    this._lastMessageAt = Date.now();
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (msg.ref && this._pending.has(msg.ref)) {
      const p = this._pending.get(msg.ref);
      this._pending.delete(msg.ref);
      if (msg.type === 'error') {
        const err = new Error(msg.message);
        err.code = msg.code;
        p.reject(err);
      } else {
        p.resolve(msg);
      }
    }
    switch (msg.type) {
      case 'welcome':
        this._onWelcome(msg);
        break;
      case 'auth_ok':
        this.role = msg.role;
        this.tokenExp = msg.exp || null;
        this._scheduleRefresh();
        break;
      case 'subscribed': {
        const sub = this._subs.get(msg.id);
        if (!sub) break;
        sub.live = true;
        // Fresh: live from the server's head. Resumed: the replay follows, keep our cursor.
        if (!sub.resumed && (!sub.cursor || cursorAfter(msg.cursor, sub.cursor))) sub.cursor = msg.cursor;
        if (sub.handlers.onSubscribed) sub.handlers.onSubscribed({ id: sub.id, cursor: msg.cursor, resumed: sub.resumed }, sub);
        if (sub.resyncPending) {
          sub.resyncPending = false;
          if (sub.handlers.onResync) sub.handlers.onResync(sub);
        }
        break;
      }
      case 'change': {
        const sub = this._subs.get(msg.sub);
        if (sub) this._deliver(sub, msg, sub.handlers.onChange);
        break;
      }
      case 'event': {
        const sub = this._subs.get(msg.sub);
        if (sub) this._deliver(sub, msg, sub.handlers.onEvent);
        break;
      }
      case 'truncate': {
        // Every row of the table is gone: drop what you hold (onTruncate), or reload.
        const sub = this._subs.get(msg.sub);
        if (sub) this._deliver(sub, msg, sub.handlers.onTruncate || ((m, s) => s.handlers.onResync && s.handlers.onResync(s, m)));
        break;
      }
      case 'unsubscribed':
      case 'pong':
        break;
      case 'error':
        this._onError(msg);
        break;
      default:
        break;
    }
  }

  _onError(msg) {
    const sub = msg.id ? this._subs.get(msg.id) : null;
    if (msg.code === 'row_withheld' && sub) {
      // The subscription goes on; one change could not be checked: reload to be sure.
      if (sub.handlers.onResync) sub.handlers.onResync(sub, msg);
      return;
    }
    if (sub && RETRY_LATER[msg.code]) {
      // Not a verdict: the server could not serve it now. Ask again later, from the cursor.
      sub.live = false;
      this._timer(() => { if (sub.active && this._ready && this._subs.get(sub.id) === sub) this._sendSubscribe(sub); },
                  this.options[RETRY_LATER[msg.code]]);
      if (sub.handlers.onError) sub.handlers.onError(msg, sub);
      return;
    }
    if (msg.code === 'cursor_too_old' && sub) {
      // The server no longer has our history: subscribe fresh, then let the app reload.
      sub.cursor = null;
      sub.resyncPending = true;
      if (this._ready) this._sendSubscribe(sub);
      return;
    }
    if (msg.code === 'token_expired' && this.options.getToken) {
      // Subscriptions ended: get a new token, re-auth, and resume them from their cursors.
      this._freshToken().then((token) => {
        if (!token || !this._ready) return;
        this._send({ type: 'auth', token }, true).then(() => {
          for (const s of this._subs.values()) if (s.active && !s.live) this._sendSubscribe(s);
        }).catch(() => {});
      });
      for (const s of this._subs.values()) s.live = false;
    }
    if (sub && sub.handlers.onError) sub.handlers.onError(msg, sub);
    else if (!msg.ref) this._emitError(msg);
  }
}

export default PgEventsClient;
