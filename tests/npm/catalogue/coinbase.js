// Coinbase Commerce: X-CC-Webhook-Signature, the hex HMAC-SHA256 of the
// body under the shared secret (docs.cdp.coinbase.com/commerce/docs/
// webhooks-security), with Node's crypto.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-cc-webhook-signature': crypto.createHmac('sha256', key).update(body).digest('hex'),
  },
});

// Coinbase Commerce's webhook example (docs.cdp.coinbase.com/commerce/
// docs/webhooks), abridged.
const event = (id, type, extra) => ({
  attempt_number: 1,
  id: 1,
  scheduled_for: '2017-01-31T20:50:02Z',
  event: {
    id, resource: 'event', type, api_version: '2018-03-22', created_at: '2017-01-31T20:49:02Z',
    data: Object.assign({
      code: '66BEOV2A', name: 'The Sovereign Individual',
      description: 'Mastering the Transition to the Information Age',
      hosted_url: 'https://commerce.coinbase.com/charges/66BEOV2A',
      created_at: '2017-01-31T20:49:02Z', expires_at: '2017-01-31T21:49:02Z',
      timeline: [{ time: '2017-01-31T20:49:02Z', status: 'NEW' }],
      metadata: {}, pricing_type: 'no_price', payments: [],
    }, extra),
  },
});
const created = event('24934862-d980-46cb-9402-43c81b0cdba6', 'charge:created');
const confirmed = event('3a6f8b1c-27d4-4e9a-b0c5-1f2d3e4a5b6c', 'charge:confirmed', {
  confirmed_at: '2017-01-31T20:59:02Z',
  timeline: [{ time: '2017-01-31T20:49:02Z', status: 'NEW' }, { time: '2017-01-31T20:59:02Z', status: 'COMPLETED' }],
});

module.exports = {
  integration: 'coinbase',
  signer: 'node:crypto per docs.cdp.coinbase.com/commerce/docs/webhooks-security',
  secret: '5c2a8b1e-4d7f-4e3a-9b6c-0a1d2e3f4b5c',
  deliveries: [
    { name: 'charge:created, Coinbase\'s example', body: created, type: 'charge:created',
      delivery_id: created.event.id, sign },
    { name: 'charge:confirmed', body: confirmed, type: 'charge:confirmed',
      delivery_id: confirmed.event.id, sign },
    { name: 'charge:created retried: a duplicate', body: Object.assign({}, created, { attempt_number: 2 }),
      type: null, negatives: false, sign },
  ],
};
