// Paddle Billing: Paddle-Signature "ts=…;h1=…", the hex HMAC-SHA256 of
// "ts:body" under the notification destination's secret key
// (developer.paddle.com/webhooks/signature-verification). Signed with
// Node's crypto; every header is also checked with the Paddle Node SDK's
// own verifier (webhooks.isSignatureValid), which is what a Paddle
// integration would accept.
'use strict';
const crypto = require('crypto');
const { Paddle } = require('@paddle/paddle-node-sdk');

const paddle = new Paddle('pdl_sdbx_apikey_catalogue');

async function sign({ key, body, now }) {
  const h1 = crypto.createHmac('sha256', key).update(`${now}:${body}`).digest('hex');
  const header = `ts=${now};h1=${h1}`;
  if (!(await paddle.webhooks.isSignatureValid(body, key, header)))
    throw new Error('the Paddle SDK refuses the signature made for it');
  return { headers: { 'content-type': 'application/json', 'paddle-signature': header } };
}

// Paddle's transaction.completed and subscription.created examples
// (developer.paddle.com/webhooks/transactions/transaction-completed,
// .../subscriptions/subscription-created), abridged.
const completed = {
  event_id: 'evt_01h8bzakzx3hm2fmen703n5q45',
  event_type: 'transaction.completed',
  occurred_at: '2023-08-21T11:57:47.390028Z',
  notification_id: 'ntf_01h8bzam1z32agrxjwhjgqk8w6',
  data: {
    id: 'txn_01h8bxpvx398a7zbawb77y0kp5', status: 'completed',
    customer_id: 'ctm_01h8441jn5pcwrfhwh78jqt8hk', currency_code: 'USD',
    origin: 'web', subscription_id: 'sub_01h8bzakrbqqn6hnyf4t1t3ykq',
    invoice_number: '325-10566', collection_mode: 'automatic',
    billing_period: { starts_at: '2023-08-21T11:57:47.390028Z', ends_at: '2023-09-21T11:57:47.390028Z' },
    items: [{ price: { id: 'pri_01gsz8x8sawmvhz1pv30nge1ke', product_id: 'pro_01gsz4t5hdjse780zja8vvr7jg' }, quantity: 10 }],
    details: { totals: { subtotal: '30000', tax: '2400', total: '32400', currency_code: 'USD' } },
    created_at: '2023-08-21T11:55:31.689283Z', billed_at: '2023-08-21T11:57:47.078298Z',
  },
};
const created = {
  event_id: 'evt_01h8bzakzx3hm2fmen703n5q46',
  event_type: 'subscription.created',
  occurred_at: '2023-08-21T11:57:47.390028Z',
  notification_id: 'ntf_01h8bzam1z32agrxjwhjgqk8w7',
  data: {
    id: 'sub_01h8bzakrbqqn6hnyf4t1t3ykq', status: 'active',
    customer_id: 'ctm_01h8441jn5pcwrfhwh78jqt8hk', currency_code: 'USD',
    billing_cycle: { interval: 'month', frequency: 1 },
    next_billed_at: '2023-09-21T11:57:47.390028Z',
    items: [{ status: 'active', quantity: 10, price: { id: 'pri_01gsz8x8sawmvhz1pv30nge1ke' } }],
  },
};

module.exports = {
  integration: 'paddle',
  signer: 'node:crypto per developer.paddle.com/webhooks/signature-verification, checked with @paddle/paddle-node-sdk webhooks.isSignatureValid',
  secret: 'pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI',
  deliveries: [
    { name: 'transaction.completed, Paddle\'s example', body: completed,
      type: 'transaction.completed', delivery_id: completed.event_id, sign,
      check: (e) => JSON.stringify(e).includes('txn_01h8bxpvx398a7zbawb77y0kp5') ? null
        : 'the stored event lacks the transaction' },
    { name: 'subscription.created', body: created,
      type: 'subscription.created', delivery_id: created.event_id, sign },
    { name: 'during a secret rotation (h1 of the old secret, then ours)',
      type: 'subscription.updated', delivery_id: 'evt_01h8bzakzx3hm2fmen703n5q47',
      body: Object.assign({}, created, { event_id: 'evt_01h8bzakzx3hm2fmen703n5q47',
        event_type: 'subscription.updated', notification_id: 'ntf_01h8bzam1z32agrxjwhjgqk8w8' }),
      sign: ({ key, body, now }) => {
        const mac = (k) => crypto.createHmac('sha256', k).update(`${now}:${body}`).digest('hex');
        return { headers: { 'content-type': 'application/json',
          'paddle-signature': `ts=${now};h1=${mac('pdl_ntfset_the_old_secret')};h1=${mac(key)}` } };
      } },
    { name: 'transaction.completed retried (the same event_id)', body: completed,
      type: null, negatives: false, sign },
  ],
};
