// Test harness shared by the node tests and the browser end-to-end test: a throwaway
// project from the todo template, brought up with the real `pgext dev` (real cluster,
// real PostgREST, real pg_events_ws), and small PostgREST helpers.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const pgext = process.env.PGEXT_BINARY;
if (!pgext || !fs.existsSync(pgext)) throw new Error('PGEXT_BINARY must point at the pgext binary (ctest sets it)');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(check, { timeoutMs = 10000, intervalMs = 20, what = 'condition' } = {}) {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function run(args, cwd) {
  const r = spawnSync(pgext, args, { cwd, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' } });
  if (r.status !== 0) throw new Error(`pgext ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// A todo project with free ports, its cluster created; call start() for `pgext dev`.
export async function createProject(name = 'jstest') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgext-js-'));
  fs.chmodSync(dir, 0o755); // the cluster runs as `postgres` when we are root
  const root = path.join(dir, name);
  run(['init', name, '--dir', root], dir);
  const ports = { db: await freePort(), postgrest: await freePort(), realtime: await freePort(), frontend: await freePort() };
  const tomlPath = path.join(root, 'pgext.toml');
  const portOf = { database: ports.db, realtime: ports.realtime, postgrest: ports.postgrest, frontend: ports.frontend };
  let section = '';
  const toml = fs.readFileSync(tomlPath, 'utf8').split('\n').map((line) => {
    const header = line.match(/^\[(\w+)\]/);
    if (header) section = header[1];
    return /^port = \d+/.test(line) && portOf[section] ? `port = ${portOf[section]}` : line;
  }).join('\n');
  fs.writeFileSync(tomlPath, toml);
  const project = new DevProject(dir, root, ports);
  return project;
}

export class DevProject {
  constructor(dir, root, ports) {
    this.dir = dir;
    this.root = root;
    this.ports = ports;
    this.postgrestUrl = `http://127.0.0.1:${ports.postgrest}`;
    this.realtimeUrl = `ws://127.0.0.1:${ports.realtime}`;
    this.frontendUrl = `http://127.0.0.1:${ports.frontend}/`;
    this.output = '';
    this.child = null;
  }

  // Starts `pgext dev` and resolves once it reports every service healthy.
  async start(extraArgs = [], extraEnv = {}) {
    const child = spawn(pgext, ['dev', ...extraArgs], { cwd: this.root, env: { ...process.env, DATABASE_URL: '', ...extraEnv } });
    this.child = child;
    this.output = '';
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.stdout.on('data', (d) => { this.output += d; });
    child.stderr.on('data', (d) => { this.output += d; });
    const m = await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`pgext dev exited (${child.exitCode}):\n${this.output}`);
      return this.output.match(/all services healthy in (\d+) ms/);
    }, { timeoutMs: 90000, what: 'pgext dev to report healthy' });
    this.startupMs = Number(m[1]);
    return this;
  }

  // pid of a supervised service, from its log ("started pg_events_ws (pid N)").
  servicePid(service) {
    const log = fs.readFileSync(path.join(this.root, '.pgext', 'logs', `${service}.log`), 'utf8');
    const all = [...log.matchAll(/started \S+ \(pid (\d+)\)/g)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  }

  run(args) {
    return run(args, this.root);
  }

  async health(port) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGINT');
      await Promise.race([this.exited, sleep(15000)]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
  }

  async destroy() {
    await this.stop();
    try { run(['db:stop'], this.root); } catch { /* already stopped */ }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async api(pathname, { method = 'GET', token, body, prefer } = {}) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (prefer) headers.Prefer = prefer;
    const res = await fetch(this.postgrestUrl + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async signup(email, password = 'correct horse battery') {
    const { token } = await this.api('/rpc/signup', { method: 'POST', body: { email, password } });
    return token;
  }

  async addTask(token, title) {
    const [row] = await this.api('/tasks', { method: 'POST', token, body: { title }, prefer: 'return=representation' });
    return row;
  }
}

export function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
