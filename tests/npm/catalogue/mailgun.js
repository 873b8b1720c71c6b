// Mailgun: the body's signature object, {timestamp, token, signature},
// where signature is the hex HMAC-SHA256 of timestamp followed by token
// under the HTTP webhook signing key (documentation.mailgun.com/docs/
// mailgun/user-manual/webhooks/securing-webhooks), with Node's crypto.
// Mailgun does not sign event-data: the token is the delivery id, so a
// captured signature sent again with other event data is a duplicate.
'use strict';
const crypto = require('crypto');

function wrap(key, eventData, token, timestamp) {
  const ts = String(timestamp);
  return JSON.stringify({
    signature: {
      timestamp: ts, token,
      signature: crypto.createHmac('sha256', key).update(ts + token).digest('hex'),
    },
    'event-data': eventData,
  });
}
const signer = (token, edit) => ({ key, now }) => ({
  headers: { 'content-type': 'application/json' },
  body: wrap(key, edit ? edit() : null, token, now),
});

// Mailgun's delivered and permanent failure examples (the webhook
// payloads of documentation.mailgun.com .../webhooks), abridged.
const delivered = {
  event: 'delivered', timestamp: 1529006854.329574, id: 'DACSsAdVSeGpLid7TN03WA',
  'log-level': 'info', recipient: 'alice@example.com', 'recipient-domain': 'example.com',
  tags: ['my_tag_1', 'my_tag_2'], 'user-variables': { 'my_var_1': 'Mailgun Variable #1' },
  envelope: { transport: 'smtp', sender: 'bob@sandbox.mailgun.org', 'sending-ip': '209.61.154.250' },
  message: { headers: { to: 'Alice <alice@example.com>', 'message-id': '20130503182626.18666.16540@sandbox.mailgun.org', from: 'Bob <bob@sandbox.mailgun.org>', subject: 'Test delivered webhook' }, size: 111 },
  'delivery-status': { code: 250, message: 'OK', 'attempt-no': 1, description: '' },
};
const failed = {
  event: 'failed', severity: 'permanent', reason: 'suppress-bounce',
  timestamp: 1521233195.375624, id: 'G9Bn5sl1TC6nu79C8C0bwg', 'log-level': 'error',
  recipient: 'alice@example.com', 'recipient-domain': 'example.com',
  message: { headers: { to: 'Alice <alice@example.com>', 'message-id': '20130503192659.13651.20287@sandbox.mailgun.org', from: 'Bob <bob@sandbox.mailgun.org>', subject: 'Test permanent_fail webhook' }, size: 111 },
  'delivery-status': { code: 605, message: '', 'attempt-no': 1, description: 'Not delivering to previously bounced address' },
};
const tok1 = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
const tok2 = 'b9df1fec3ee9412eff7d3516346695f56bba2e2f0a080a4ef1';

module.exports = {
  integration: 'mailgun',
  signer: 'node:crypto per documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks',
  secret: 'key-7e55d003b2d7bbc3fc68dbb5f4e1fd4d',
  signature_headers: [],
  deliveries: [
    { name: 'delivered, Mailgun\'s example', type: 'delivered', delivery_id: tok1,
      tamper: false, sign: signer(tok1, () => delivered),
      check: (e) => !JSON.stringify(e).includes('mallory') ? null
        : 'the event data sent again under the same token was stored' },
    { name: 'failed (permanent), Mailgun\'s example', type: 'failed.permanent',
      delivery_id: tok2, tamper: false, sign: signer(tok2, () => failed),
      check: (e) => JSON.stringify(e).includes('suppress-bounce') ? null
        : 'the stored event lacks the failure reason' },
    { name: 'a seen signature with other event data: a duplicate, not stored',
      type: null, negatives: false,
      sign: signer(tok1, () => Object.assign({}, delivered, { recipient: 'mallory@example.com' })) },
    { name: 'a changed token', type: null, status: 401,
      sign: ({ key, now }) => {
        const b = JSON.parse(wrap(key, delivered, tok1, now));
        b.signature.token = tok2;
        return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) };
      } },
    { name: 'a signature an hour old', type: null, status: 401,
      sign: ({ key, now }) => ({ headers: { 'content-type': 'application/json' },
        body: wrap(key, delivered, 'c0ffee' + tok1.slice(6), now - 3600) }) },
    { name: 'no signature object', type: null, status: 401,
      sign: () => ({ headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ 'event-data': delivered }) }) },
  ],
};
