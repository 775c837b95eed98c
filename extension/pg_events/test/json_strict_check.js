// Strictly parse pg_events documents: one JSON document per line.
//
//   node json_strict_check.js FILE.jsonl...
//
// Fails on any line JSON.parse rejects, on blank lines, and on documents
// whose keys are not the documented ones in the documented order.
'use strict';
const fs = require('fs');

const KEYS = {
  begin: ['v', 'op', 'xid', 'lsn', 'end_lsn', 'commit_time'],
  commit: ['v', 'op', 'xid', 'lsn', 'end_lsn', 'commit_time', 'count'],
  insert: ['v', 'op', 'schema', 'table', 'relid', 'lsn', 'seq', 'xid', 'commit_time', 'pk', 'new', 'old'],
  update: ['v', 'op', 'schema', 'table', 'relid', 'lsn', 'seq', 'xid', 'commit_time', 'pk', 'new', 'old'],
  delete: ['v', 'op', 'schema', 'table', 'relid', 'lsn', 'seq', 'xid', 'commit_time', 'pk', 'new', 'old'],
  truncate: ['v', 'op', 'schema', 'table', 'relid', 'lsn', 'seq', 'xid', 'commit_time', 'cascade', 'restart_identity'],
  message: ['v', 'op', 'lsn', 'seq', 'xid', 'commit_time', 'channel', 'payload'],
};
const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let failures = 0;
let docs = 0;
function fail(file, n, msg) {
  failures++;
  if (failures <= 50) console.error(`${file}:${n}: ${msg}`);
}

for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  if (!Buffer.from(text, 'utf8').equals(fs.readFileSync(file))) {
    fail(file, 0, 'file is not valid UTF-8');
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const n = i + 1;
    let d;
    try {
      d = JSON.parse(line);
    } catch (e) {
      fail(file, n, `invalid JSON: ${e.message}`);
      return;
    }
    docs++;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) {
      fail(file, n, 'not an object');
      return;
    }
    if (d.v !== 1) fail(file, n, `"v" is ${JSON.stringify(d.v)}`);
    let want = KEYS[d.op];
    if (!want) {
      fail(file, n, `unknown op ${JSON.stringify(d.op)}`);
      return;
    }
    if (d.unchanged_toast !== undefined) want = want.concat(['unchanged_toast']);
    const got = Object.keys(d);
    if (got.join(',') !== want.join(',')) fail(file, n, `keys ${got} instead of ${want}`);
    if (!LSN.test(d.lsn)) fail(file, n, `bad lsn ${d.lsn}`);
    if (d.end_lsn !== undefined && !LSN.test(d.end_lsn)) fail(file, n, `bad end_lsn ${d.end_lsn}`);
    if (!TIME.test(d.commit_time)) fail(file, n, `bad commit_time ${d.commit_time}`);
    if (!Number.isInteger(d.xid)) fail(file, n, 'xid is not an integer');
    if (d.relid !== undefined && !(Number.isInteger(d.relid) && d.relid > 0)) fail(file, n, 'relid is not a positive integer');
    if (d.seq !== undefined && !Number.isInteger(d.seq)) fail(file, n, 'seq is not an integer');
  });
}
if (failures > 0) {
  console.error(`json_strict_check: ${failures} problem(s) in ${docs} document(s)`);
  process.exit(1);
}
console.log(`json_strict_check: ${docs} documents parsed strictly`);
