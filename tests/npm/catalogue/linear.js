// Linear: Linear-Signature, the hex HMAC-SHA256 of the body under the
// webhook's signing secret, and webhookTimestamp (ms) in the body
// (https://linear.app/developers/webhooks#securing-webhooks), with Node's
// crypto.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'linear-delivery': '234d1a4e-b617-4388-90fe-adc3633d6b72',
    'linear-event': 'Issue',
    'linear-signature': crypto.createHmac('sha256', key).update(body).digest('hex'),
  },
});

module.exports = {
  integration: 'linear',
  signer: 'docs: linear.app/developers/webhooks (node:crypto)',
  secret: 'lin_wh_8c1e4b7f2a9d3c6e5b0a1f7d2c8e9b3a',
  signature_headers: ['linear-signature'],
  deliveries: [{
    name: 'Issue create',
    get body() {
      return JSON.stringify({
        action: 'create', type: 'Issue', createdAt: new Date().toISOString(),
        organizationId: 'a9e6a5c8-7e57-4a0e-9a3b-2f5d0c3b1f10',
        url: 'https://linear.app/acme/issue/ENG-12/fix-login',
        actor: { id: 'd2c5e1a1-1234-4bcd-9abc-0123456789ab', type: 'user', name: 'Ada' },
        data: { id: '2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9', identifier: 'ENG-12', title: 'Fix login', priority: 2 },
        webhookTimestamp: Date.now(), webhookId: '000042e3-d123-4980-b49f-8e140eef9329',
      });
    },
    type: 'Issue.create',
    delivery_id: '234d1a4e-b617-4388-90fe-adc3633d6b72',
    sign,
  }],
};
