// Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature),
// signed by the reference library, the standardwebhooks npm package; the
// example payload of the specification (contact.created); a signature
// header that carries several signatures, as during a key rotation.
'use strict';
const fs = require('fs');
const path = require('path');
const { Webhook } = require('standardwebhooks');

const samples = path.join(process.env.HOOKPIPE_SHARED || path.join(__dirname, '../../../../shared'), 'samples');

const secret = 'whsec_' + Buffer.from('catalogue secret for standard webhooks').toString('base64');
const retired = 'whsec_' + Buffer.from('the key before the rotation').toString('base64');

const sign = (id, keys) => ({ key, body, now }) => ({
  headers: {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(now),
    'webhook-signature': (keys || [key]).map((k) => new Webhook(k === 'KEY' ? key : k)
      .sign(id, new Date(now * 1000), body)).join(' '),
  },
});

module.exports = {
  integration: 'standard-webhooks',
  signer: 'standardwebhooks npm Webhook.sign',
  secret,
  deliveries: [{
    name: 'contact.created, the specification\'s example',
    body: fs.readFileSync(path.join(samples, 'standardwebhooks-contact.created.json'), 'utf8'),
    type: 'contact.created',
    delivery_id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    sign: sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'),
  }, {
    name: 'two signatures, one by a retired key (rotation)',
    body: JSON.stringify({ type: 'invoice.paid', timestamp: '2022-11-03T20:26:10.344522Z', data: { id: 'in_1f81eb52' } }),
    type: 'invoice.paid',
    delivery_id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4X',
    sign: sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4X', [retired, 'KEY']),
  }],
};
