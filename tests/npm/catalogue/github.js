// GitHub: X-Hub-Signature-256, signed by @octokit/webhooks-methods.
'use strict';
const fs = require('fs');
const path = require('path');

const samples = path.join(process.env.HOOKPIPE_SHARED || path.join(__dirname, '../../../../shared'), 'samples');
const sample = (f) => fs.readFileSync(path.join(samples, f), 'utf8');

const sign = (event, delivery) => async ({ key, body }) => {
  const { sign } = await import('@octokit/webhooks-methods');
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': await sign(key, body),
    },
  };
};

module.exports = {
  integration: 'github',
  signer: '@octokit/webhooks-methods sign',
  secret: 'It\'s a Secret to Everybody',
  signature_headers: ['x-hub-signature-256'],
  deliveries: [{
    name: 'issues (opened), a sample from GitHub',
    body: sample('github-issues.opened.json'),
    type: 'issues',
    delivery_id: '6a6c2a70-0f33-11ef-8a4d-6d8a6f1a0c01',
    sign: sign('issues', '6a6c2a70-0f33-11ef-8a4d-6d8a6f1a0c01'),
  }, {
    name: 'push, a sample from GitHub',
    body: sample('github-push.json'),
    type: 'push',
    delivery_id: '6a6c2a70-0f33-11ef-8a4d-6d8a6f1a0c02',
    sign: sign('push', '6a6c2a70-0f33-11ef-8a4d-6d8a6f1a0c02'),
  }],
};
