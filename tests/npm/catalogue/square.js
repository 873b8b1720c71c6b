// Square: x-square-hmacsha256-signature, the base64 HMAC-SHA256 of the
// notification URL followed by the body, under the subscription's
// signature key (developer.squareup.com/docs/webhooks/step3validate),
// with Node's crypto. The URL is the callback URL the stack gives the
// subscription, as Square would be configured with it.
'use strict';
const crypto = require('crypto');

const sign = ({ key, url, body }) => ({
  headers: {
    'content-type': 'application/json',
    'square-version': '2024-01-18',
    'x-square-hmacsha256-signature':
      crypto.createHmac('sha256', key).update(url + body).digest('base64'),
  },
});

// Square's payment.created and order.updated examples
// (developer.squareup.com/reference/square/payments-api/webhooks/
// payment.created, .../orders-api/webhooks/order.updated), abridged.
const payment = {
  merchant_id: '6SSW7HV8K2ST5',
  type: 'payment.created',
  event_id: '13b867cf-db3d-4b1c-90b6-2f32a9d78124',
  created_at: '2020-02-06T21:27:30.792Z',
  data: {
    type: 'payment', id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY',
    object: { payment: {
      id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY', created_at: '2020-02-06T21:27:30.717Z',
      updated_at: '2020-02-06T21:27:30.792Z', status: 'APPROVED', source_type: 'CARD',
      amount_money: { amount: 100, currency: 'USD' },
      total_money: { amount: 100, currency: 'USD' },
      location_id: 'NAQ1FHV6ZJ8YV', order_id: '03O3USaPaAaFnI6kkwB1JxGgBsUZY',
      card_details: { status: 'AUTHORIZED', card: { card_brand: 'MASTERCARD', last_4: '9029' } },
    } },
  },
};
const order = {
  merchant_id: '5S9MXCS9Y99KK',
  type: 'order.updated',
  event_id: '4b8e5c91-9f17-4cf1-900a-4a0629f81add',
  created_at: '2020-04-16T23:14:26.129Z',
  data: {
    type: 'order', id: 'eA3vssLHKJrv9H0IdJCM3gNqfdcZY',
    object: { order_updated: {
      created_at: '2020-04-16T23:14:26.129Z', location_id: 'FPYCBCHYMXFK1',
      order_id: 'eA3vssLHKJrv9H0IdJCM3gNqfdcZY', state: 'OPEN',
      updated_at: '2020-04-16T23:14:26.359Z', version: 2,
    } },
  },
};

module.exports = {
  integration: 'square',
  signer: 'node:crypto per developer.squareup.com/docs/webhooks/step3validate',
  secret: 'asdf1234ASDF5678qwer90',
  signature_headers: ['x-square-hmacsha256-signature'],
  deliveries: [
    { name: 'payment.created, Square\'s example', body: payment,
      type: 'payment.created', delivery_id: payment.event_id, sign },
    { name: 'order.updated, Square\'s example', body: order,
      type: 'order.updated', delivery_id: order.event_id, sign },
    { name: 'signed for another notification URL', body: order, type: null,
      status: 401, sign: ({ key, url, body }) => sign({ key, url: url + 'x', body }) },
    { name: 'payment.created retried (the same event_id)', body: payment,
      type: null, negatives: false, sign },
  ],
};
