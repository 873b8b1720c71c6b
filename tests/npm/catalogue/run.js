#!/usr/bin/env node
// The integration catalogue, end to end: for every provider module in
// this directory, a subscription on the running stack, deliveries signed
// at test time the way the provider signs them (with its own npm library
// where it has one, else its documented rule with Node's crypto), each
// sent over HTTP to the subscription's callback URL; then the same
// deliveries tampered with, signed with a wrong secret and missing each
// signature header, which must be refused; then the provider's
// handshakes. At the end the stored events must be exactly the accepted
// deliveries, with their event types and delivery ids.
//
//   node tests/npm/catalogue/run.js [NAME ...]
//
// Needs the stack running (HOOKPIPE_HOME, TRIGGER_URL, hookpipe on PATH)
// and `npm ci` in tests/npm. Prints one TAP line per check ("ok - ...",
// "not ok - ..."), as the e2e scripts do.
//
// A provider module (tests/npm/catalogue/NAME.js) exports:
//
//   integration   the definition's name (integrations/NAME.json)
//   signer        what signs: "twilio@5 validateRequest", "docs: URL", ...
//   keys()        optional, async: {secret, sign, wrong} where secret is
//                 what the subscription stores (a shared secret, a
//                 public key), sign what signs (the same secret, a
//                 private key) and wrong a key that must not verify;
//                 default {secret: module.secret, sign: secret,
//                 wrong: module.wrong_secret or the secret with one
//                 character changed}
//   secret        the shared secret, as the provider shows it
//   params        {name: value} for --param (optional)
//   events        --events for the subscription (default all)
//   deliveries    [{name, body (string or object), type (expected event
//                 type, or null when the delivery is not stored),
//                 delivery_id (optional), status (default 200),
//                 sign: async ({key, url, body, now, sub}) =>
//                   ({headers, body?, query?, method?}),
//                 signature_headers: [...] (the headers that carry the
//                 proof; each left out must give 401; default: every
//                 header sign() returned but content-type),
//                 tamper: false to skip the changed-body check,
//                 check: (event) => string|null (optional, on
//                 `hookpipe event show --json`)}]
//   handshakes    [{name, request: async ({key, url, sub, now}) =>
//                 ({method, headers, query, body}), status (default 200),
//                 body: string | RegExp | (text, res) => string|null,
//                 content_type (optional prefix), before: true to make
//                 it before the deliveries (Asana's X-Hook-Secret, which
//                 hands over the secret that signs them)}]
//   setup / teardown  optional, async, with {hookpipe}
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { execFileSync } = require('child_process');

const dir = __dirname;
let pass = 0, fail = 0;

function ok(name) { pass++; console.log(`ok - ${name}`); }
function notOk(name, why) {
  fail++;
  console.log(`not ok - ${name}`);
  for (const l of String(why).split('\n').slice(0, 12))
    console.log(`#   ${l}`);
}
function check(name, cond, why) { cond ? ok(name) : notOk(name, why); }

function hookpipe(...args) {
  return execFileSync('hookpipe', args, {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function send(url, req) {
  const u = new URL(url);
  if (req.query) u.search = req.query.startsWith('?') ? req.query : '?' + req.query;
  const body = req.body === undefined || req.body === null ? '' : req.body;
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const headers = Object.assign({}, req.headers || {});
  const method = req.method || 'POST';
  if (method !== 'GET' && method !== 'HEAD')
    headers['content-length'] = String(buf.length);
  return new Promise((resolve) => {
    const r = http.request(u, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers,
        text: Buffer.concat(chunks).toString('utf8'),
      }));
    });
    r.on('error', (e) => resolve({ status: 0, headers: {}, text: String(e) }));
    if (method !== 'GET' && method !== 'HEAD') r.write(buf);
    r.end();
  });
}

// A letter past the middle changes case: the body still parses, and
// says something else.
function tamper(body) {
  const b = Buffer.from(body);
  for (let j = 0; j < b.length; j++) {
    const i = (Math.floor(b.length / 2) + j) % b.length;
    const c = b[i];
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) {
      b[i] = c ^ 0x20;
      break;
    }
  }
  return b;
}

// A secret of the same form, one character changed: the first after a
// "xxx_" prefix, whose bits all count (the last of a base64 text may
// carry unused ones).
function wrongOf(secret) {
  const m = /^[a-z]+_/.exec(secret);
  const i = m ? m[0].length : 0;
  const c = secret[i];
  const swap = /[0-8a-yA-Y]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 1)
    : /[9zZ]/.test(c) ? String.fromCharCode(c.charCodeAt(0) - 1) : 'a';
  return secret.slice(0, i) + swap + secret.slice(i + 1);
}

const bodyText = (b) => (typeof b === 'string' || Buffer.isBuffer(b)) ? b
  : JSON.stringify(b);

async function provider(file) {
  const m = require(path.join(dir, file));
  const I = m.integration;
  const subName = 'cat-' + I.replace(/[^A-Za-z0-9_-]/g, '-');
  const keys = m.keys ? await m.keys() : {
    secret: m.secret, sign: m.secret,
    wrong: m.secret === undefined || m.secret === null ? undefined
      : m.wrong_secret || wrongOf(m.secret),
  };
  if (m.setup) await m.setup({ hookpipe });

  const args = ['sub', 'create', subName, '--integration', I, '--json'];
  let tmp;
  if (keys.secret !== undefined && keys.secret !== null) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hpcat-'));
    fs.writeFileSync(path.join(tmp, 'secret'), keys.secret, { mode: 0o600 });
    args.push('--secret-file', path.join(tmp, 'secret'));
  }
  for (const [k, v] of Object.entries(m.params || {}))
    args.push('--param', `${k}=${v}`);
  if (m.events) args.push('--events', m.events);
  let sub;
  try {
    sub = JSON.parse(hookpipe(...args));
  } catch (e) {
    notOk(`${I}: sub create`, (e.stderr || '') + e.message);
    return;
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
  ok(`${I}: sub create (${m.signer})`);
  const url = sub.callback_url;
  const expected = [];

  const handshake = async (h) => {
    const label = `${I}: handshake ${h.name}`;
    const now = Math.floor(Date.now() / 1000);
    const req = await h.request({ key: keys.sign, url, sub: sub.id, now });
    const res = await send(url, req);
    const want = h.status || 200;
    check(`${label}: ${want}`, res.status === want,
      `got ${res.status}: ${res.text}`);
    if (h.body !== undefined) {
      let why = null;
      if (typeof h.body === 'function') why = h.body(res.text, res);
      else if (h.body instanceof RegExp) why = h.body.test(res.text) ? null
        : `${JSON.stringify(res.text)} does not match ${h.body}`;
      else why = res.text === h.body ? null
        : `expected ${JSON.stringify(h.body)}, got ${JSON.stringify(res.text)}`;
      check(`${label}: the answer`, why === null, why);
    }
    if (h.content_type)
      check(`${label}: content-type ${h.content_type}`,
        String(res.headers['content-type'] || '').startsWith(h.content_type),
        `got ${res.headers['content-type']}`);
  };
  for (const h of (m.handshakes || []).filter((x) => x.before))
    await handshake(h);

  for (const d of m.deliveries || []) {
    const label = `${I}: ${d.name}`;
    const body = bodyText(d.body);
    const now = Math.floor(Date.now() / 1000);
    const req = await d.sign({ key: keys.sign, url, body, now, sub: sub.id });
    if (req.body === undefined) req.body = body;
    const want = d.status || 200;
    const res = await send(url, req);
    check(`${label}: ${want}`, res.status === want,
      `got ${res.status}: ${res.text}`);
    if (d.type) expected.push({ d, label });

    if (d.negatives === false || want >= 300) continue;
    if (d.tamper !== false) {
      const t = await send(url, Object.assign({}, req, { body: tamper(req.body) }));
      check(`${label}: a changed body is refused (401)`, t.status === 401,
        `got ${t.status}: ${t.text}`);
    }
    if (keys.wrong !== undefined) {
      const wr = await d.sign({ key: keys.wrong, url, body, now, sub: sub.id });
      if (wr.body === undefined) wr.body = body;
      const w = await send(url, wr);
      check(`${label}: a wrong secret is refused (401)`, w.status === 401,
        `got ${w.status}: ${w.text}`);
    }
    const sigh = d.signature_headers || m.signature_headers ||
      Object.keys(req.headers || {}).filter((h) => h.toLowerCase() !== 'content-type');
    for (const h of sigh) {
      const hs = Object.assign({}, req.headers);
      for (const k of Object.keys(hs))
        if (k.toLowerCase() === h.toLowerCase()) delete hs[k];
      const r = await send(url, Object.assign({}, req, { headers: hs }));
      check(`${label}: without ${h}: 401 saying what is missing`,
        r.status === 401 && /missing/i.test(r.text),
        `got ${r.status}: ${r.text}`);
    }
  }

  for (const h of (m.handshakes || []).filter((x) => !x.before))
    await handshake(h);

  // Exactly the accepted deliveries are stored, never a handshake or a
  // refused one.
  let events = [];
  try {
    events = JSON.parse(hookpipe('events', '--sub', subName, '--json', '--limit', '1000'));
  } catch (e) {
    notOk(`${I}: events`, (e.stderr || '') + e.message);
  }
  check(`${I}: ${expected.length} event(s) stored, no more`,
    events.length === expected.length,
    `stored: ${events.map((e) => e.type).join(', ')}`);
  for (const { d, label } of expected) {
    const e = events.find((x) => x.type === d.type &&
      (d.delivery_id === undefined || x.delivery_id === String(d.delivery_id)));
    check(`${label}: stored as ${d.type}${d.delivery_id !== undefined ? ` (${d.delivery_id})` : ''}`,
      e !== undefined,
      `stored: ${events.map((x) => `${x.type} (${x.delivery_id})`).join(', ')}`);
    if (e && d.check) {
      const full = JSON.parse(hookpipe('event', 'show', e.id, '--json'));
      const why = d.check(full);
      check(`${label}: stored event`, !why, why);
    }
  }
  if (m.teardown) await m.teardown({ hookpipe });
}

(async () => {
  const only = process.argv.slice(2);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js') &&
    f !== 'run.js' && !f.startsWith('_')).sort();
  for (const f of files) {
    if (only.length && !only.includes(f.replace(/\.js$/, ''))) continue;
    try {
      await provider(f);
    } catch (e) {
      notOk(`${f}: the module runs`, e.stack || e);
    }
  }
  console.log(`# catalogue: ${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
})();
