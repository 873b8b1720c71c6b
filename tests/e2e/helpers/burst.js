#!/usr/bin/env node
// Sends N OpenAI deliveries (Standard Webhooks signatures, made with
// Node's own crypto) over one keep-alive connection, one after another,
// and prints how many got each status as JSON: {"202": 300}.
//
//   node burst.js URL SECRET N [TYPE]
//
// A shell loop of curl and openssl costs a dozen processes a delivery;
// this is for the tests that need hundreds.
'use strict';
const crypto = require('crypto');
const http = require('http');

const [url, secret, n, type = 'batch.completed'] = process.argv.slice(2);
if (!url || !secret || !(n > 0)) {
  process.stderr.write('usage: node burst.js URL SECRET N [TYPE]\n');
  process.exit(2);
}
const key = secret.startsWith('whsec_')
  ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const counts = {};

function one(i) {
  const id = 'msg_' + crypto.randomBytes(12).toString('hex');
  const ts = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: 'evt_' + crypto.randomBytes(8).toString('hex'), object: 'event',
    type, created_at: ts, data: { id: 'batch_' + i },
  });
  const sig = crypto.createHmac('sha256', key)
    .update(`${id}.${ts}.${body}`).digest('base64');
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: {
        'content-type': 'application/json', 'webhook-id': id,
        'webhook-timestamp': String(ts), 'webhook-signature': 'v1,' + sig,
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve('error'));
    req.end(body);
  });
}

(async () => {
  for (let i = 1; i <= Number(n); i++) {
    const st = await one(i);
    counts[st] = (counts[st] || 0) + 1;
  }
  agent.destroy();
  process.stdout.write(JSON.stringify(counts) + '\n');
})();
