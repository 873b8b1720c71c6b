#!/usr/bin/env node
// Posts every example delivery of @octokit/webhooks-examples (its
// api.github.com/index.json) to a GitHub subscription, each signed with
// GitHub's own @octokit/webhooks-methods, over one keep-alive connection,
// and prints the ones not answered 200, one per line, then "N sent".
//
//   node gh-examples.js INDEX URL SECRET
//
// A shell loop of openssl and curl costs several processes an example;
// there are hundreds.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const [index, url, secret] = process.argv.slice(2);
if (!index || !url || !secret) {
  process.stderr.write('usage: node gh-examples.js INDEX URL SECRET\n');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(body, event, sig) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: {
        'Content-Type': 'application/json',
        'X-GitHub-Event': event,
        'X-GitHub-Delivery': crypto.randomUUID(),
        'X-Hub-Signature-256': sig,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve([res.statusCode,
        Buffer.concat(chunks).toString()]));
    });
    req.on('error', (e) => resolve([0, String(e)]));
    req.end(body);
  });
}

(async () => {
  const { sign } = await import('@octokit/webhooks-methods');
  let n = 0;
  for (const e of JSON.parse(fs.readFileSync(index, 'utf8'))) {
    for (const ex of e.examples) {
      const body = JSON.stringify(ex);
      const [status, answer] = await post(body, e.name,
        await sign(secret, body));
      n++;
      if (status !== 200)
        process.stdout.write(`${e.name}:${status}:${answer}\n`);
    }
  }
  process.stdout.write(`${n} sent\n`);
  agent.destroy();
})();
