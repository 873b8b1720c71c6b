// Asana: X-Hook-Signature, the hex HMAC-SHA256 of the body under the
// secret that Asana's first request hands over in X-Hook-Secret, the
// rule of https://developers.asana.com/docs/webhooks-guide (Security),
// with Node's crypto. The handshake comes first: the subscription is
// created without a secret, and the handshake gives it the one the
// deliveries are signed with.
'use strict';
const crypto = require('crypto');

const secret = 'd8b2a3c6f1e94a7b9c0d5e6f7a8b9c0d';

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-hook-signature': crypto.createHmac('sha256', key).update(body).digest('hex'),
  },
});

module.exports = {
  integration: 'asana',
  signer: 'docs: developers.asana.com/docs/webhooks-guide (node:crypto)',
  keys: async () => ({ secret: null, sign: secret, wrong: secret.replace('d8', 'e8') }),
  deliveries: [{
    name: 'task changed, the event example of Asana\'s API reference',
    body: JSON.stringify({
      events: [{
        action: 'changed',
        change: {
          action: 'changed', field: 'assignee',
          new_value: { gid: '12345', resource_type: 'user' },
        },
        created_at: '2012-02-22T02:06:58.147Z',
        parent: null,
        resource: { gid: '12345', resource_type: 'task', resource_subtype: 'default_task', name: 'Bug Task' },
        user: { gid: '12345', resource_type: 'user', name: 'Greg Sanchez' },
      }],
    }),
    type: 'task.changed',
    sign,
  }, {
    name: 'heartbeat (no events)',
    body: '{"events":[]}',
    type: 'heartbeat',
    sign,
    tamper: false,
  }],
  handshakes: [{
    name: 'X-Hook-Secret: kept and echoed',
    before: true,
    request: () => ({ method: 'POST', headers: { 'x-hook-secret': secret }, body: '' }),
    body: (text, res) => res.headers['x-hook-secret'] === secret ? null
      : `X-Hook-Secret answered: ${res.headers['x-hook-secret']}`,
  }, {
    name: 'another X-Hook-Secret later is refused',
    request: () => ({ method: 'POST', headers: { 'x-hook-secret': 'an-attackers-secret' }, body: '' }),
    status: 409,
  }],
};
