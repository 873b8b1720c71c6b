// The generic webhook integration, configured by the subscription's
// params as a sender that signs "{timestamp}.{body}" with HMAC-SHA256
// (hex, "sha256=" before it) would need: the README's example
// (The generic webhook integration), computed with Node's crypto; the
// event type and the delivery id from the sender's headers.
'use strict';
const crypto = require('crypto');

const sign = (event, delivery) => ({ key, body, now }) => ({
  headers: {
    'content-type': 'application/json',
    'x-event': event,
    'x-delivery': delivery,
    'x-timestamp': String(now),
    'x-signature': 'sha256=' + crypto.createHmac('sha256', key).update(`${now}.${body}`).digest('hex'),
  },
});

module.exports = {
  integration: 'webhook',
  signer: 'README: the generic webhook integration (node:crypto)',
  secret: 'generic-sender-secret-0b9e4c2f7a1d',
  params: {
    header: 'X-Signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=',
    signed: '{timestamp}.{body}', timestamp_header: 'X-Timestamp',
    event_type: 'header:X-Event', delivery_id: 'header:X-Delivery',
  },
  signature_headers: ['x-signature', 'x-timestamp'],
  deliveries: [{
    name: 'order.created, typed and identified by the sender\'s headers',
    body: JSON.stringify({ id: 'ord_1001', total: 4200, currency: 'EUR', status: 'created' }),
    type: 'order.created',
    delivery_id: '7d0f5c1e-1a2b-4c3d-8e9f-001122334455',
    sign: sign('order.created', '7d0f5c1e-1a2b-4c3d-8e9f-001122334455'),
    check: (e) => JSON.stringify(e).includes('ord_1001') ? null : 'the body is not in the stored event',
  }, {
    name: 'order.shipped',
    body: JSON.stringify({ id: 'ord_1001', status: 'shipped', carrier: 'DHL' }),
    type: 'order.shipped',
    delivery_id: '7d0f5c1e-1a2b-4c3d-8e9f-001122334456',
    sign: sign('order.shipped', '7d0f5c1e-1a2b-4c3d-8e9f-001122334456'),
  }],
};
