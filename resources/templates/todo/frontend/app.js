// The to-do app: plain ES modules, no build step. REST through PostgREST, live updates
// through pg_events_ws (pg_events_ws.js), row-level security on the server decides what
// each user sees.
import config from './config.js';
import { PgEventsClient } from './pg_events_ws.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'todo.token';

const state = {
  token: null,
  user: null,           // { id, email }
  tasks: new Map(),     // id → task row
  client: null,
  sub: null,
  loading: false,       // a snapshot fetch is in flight: changes are buffered
  buffered: [],
  loads: 0,
};
window.__todo = state; // for the end-to-end test and the curious

// ---- PostgREST -------------------------------------------------------------------------

async function api(path, { method = 'GET', body, prefer } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (prefer) headers.Prefer = prefer;
  const res = await fetch(config.postgrestUrl + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && state.token) signOut('Your session expired; sign in again.');
    const err = new Error((data && (data.message || data.hint)) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

function decodeClaims(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(decodeURIComponent(escape(atob(part))));
}

function tokenValid(token) {
  try {
    const claims = decodeClaims(token);
    return !claims.exp || claims.exp * 1000 > Date.now() + 5000;
  } catch {
    return false;
  }
}

// ---- rendering -------------------------------------------------------------------------

function showError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

function setStatus(status) {
  const el = $('status');
  const text = { open: 'live', connecting: 'connecting', reconnecting: 'reconnecting', closed: 'offline' }[status] || status;
  el.textContent = text;
  el.dataset.status = text;
}

function render() {
  const list = $('tasks');
  const tasks = [...state.tasks.values()].sort((a, b) => a.id - b.id);
  const existing = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const wanted = new Set();
  let previous = null;
  for (const task of tasks) {
    const key = String(task.id);
    wanted.add(key);
    let li = existing.get(key);
    if (!li) {
      li = document.createElement('li');
      li.dataset.id = key;
      li.innerHTML = '<input type="checkbox" class="toggle" aria-label="done"><span class="title"></span>'
                   + '<button type="button" class="delete" aria-label="delete" title="Delete">×</button>';
    }
    li.classList.toggle('done', !!task.done);
    li.dataset.done = task.done ? 'true' : 'false';
    li.querySelector('.toggle').checked = !!task.done;
    li.querySelector('.title').textContent = task.title;
    const next = previous ? previous.nextSibling : list.firstChild;
    if (next !== li) list.insertBefore(li, next);
    previous = li;
  }
  for (const [key, li] of existing) if (!wanted.has(key)) li.remove();
  $('empty').hidden = tasks.length > 0;
}

// ---- live updates ----------------------------------------------------------------------

function applyChange(change) {
  if (change.op === 'delete') {
    const id = (change.old_record || {}).id;
    if (id !== undefined) state.tasks.delete(id);
  } else if (change.record) {
    state.tasks.set(change.record.id, change.record);
  }
}

// Loads every task through PostgREST. Changes that arrive meanwhile are applied on top,
// in order (each carries the whole row), so the list converges whatever the timing.
async function loadTasks() {
  state.loading = true;
  state.buffered = [];
  try {
    const rows = await api('/tasks?select=*&order=id');
    state.tasks = new Map(rows.map((r) => [r.id, r]));
    for (const change of state.buffered) applyChange(change);
    state.loads++;
  } catch (e) {
    showError($('app-error'), `Could not load tasks: ${e.message}`);
  } finally {
    state.loading = false;
    state.buffered = [];
    render();
  }
}

function connectRealtime() {
  state.client = new PgEventsClient(config.realtimeUrl, {
    getToken: () => state.token,
    onStatus: setStatus,
    onError: (e) => console.warn('pg_events_ws:', e.code, e.message),
  });
  state.sub = state.client.subscribe(
    { table: 'public.tasks', filter: `user_id=eq.${state.user.id}` },
    {
      // Fresh subscription (first time, or after cursor_too_old): live from here, then load.
      onSubscribed: ({ resumed }) => { if (!resumed) loadTasks(); },
      onResync: () => loadTasks(),
      onChange: (change) => {
        if (state.loading) state.buffered.push(change);
        applyChange(change);
        render();
      },
      onError: (e) => showError($('app-error'), `Live updates: ${e.message}`),
    },
  );
  state.client.connect();
}

// ---- session ---------------------------------------------------------------------------

function signIn(token) {
  const claims = decodeClaims(token);
  state.token = token;
  state.user = { id: claims.sub, email: $('email').value || localStorage.getItem(TOKEN_KEY + '.email') || '' };
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(TOKEN_KEY + '.email', state.user.email);
  $('who').textContent = state.user.email || claims.sub;
  $('auth').hidden = true;
  $('app').hidden = false;
  showError($('auth-error'), '');
  connectRealtime();
}

function signOut(message) {
  if (state.client) state.client.close();
  state.client = null;
  state.token = null;
  state.user = null;
  state.tasks.clear();
  localStorage.removeItem(TOKEN_KEY);
  render();
  setStatus('closed');
  $('app').hidden = true;
  $('auth').hidden = false;
  showError($('auth-error'), message || '');
}

async function authenticate(fn) {
  showError($('auth-error'), '');
  try {
    const result = await api(`/rpc/${fn}`, { method: 'POST', body: { email: $('email').value, password: $('password').value } });
    signIn(result.token);
  } catch (e) {
    showError($('auth-error'), e.status === 403 ? 'Wrong email or password.' : e.message);
  }
}

// ---- actions ---------------------------------------------------------------------------

async function act(fn) {
  showError($('app-error'), '');
  try {
    await fn();
  } catch (e) {
    showError($('app-error'), e.message);
  }
}

$('auth').addEventListener('submit', (ev) => { ev.preventDefault(); authenticate('login'); });
$('signup').addEventListener('click', () => { if ($('auth').reportValidity()) authenticate('signup'); });
$('logout').addEventListener('click', () => signOut());

$('add-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('new-title');
  const title = input.value.trim();
  if (!title) return;
  input.value = ''; // now, not after the response: the user may already be typing the next one
  act(async () => {
    try {
      const [task] = await api('/tasks', { method: 'POST', body: { title }, prefer: 'return=representation' });
      state.tasks.set(task.id, task);
      render();
    } catch (e) {
      if (!input.value) input.value = title;
      throw e;
    }
  });
});

$('tasks').addEventListener('click', (ev) => {
  const li = ev.target.closest('li');
  if (!li) return;
  const id = Number(li.dataset.id);
  if (ev.target.classList.contains('toggle')) {
    const done = ev.target.checked;
    act(async () => {
      const rows = done
        ? [await api('/rpc/complete_task', { method: 'POST', body: { task_id: id } })]
        : await api(`/tasks?id=eq.${id}`, { method: 'PATCH', body: { done: false, completed_at: null }, prefer: 'return=representation' });
      for (const row of rows) if (row) state.tasks.set(row.id, row);
      render();
    });
  } else if (ev.target.classList.contains('delete')) {
    act(async () => {
      await api(`/tasks?id=eq.${id}`, { method: 'DELETE' });
      state.tasks.delete(id);
      render();
    });
  }
});

const saved = localStorage.getItem(TOKEN_KEY);
if (saved && tokenValid(saved)) signIn(saved);
else render();
