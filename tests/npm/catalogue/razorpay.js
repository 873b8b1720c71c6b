// Razorpay: X-Razorpay-Signature, the hex HMAC-SHA256 of the body under
// the webhook's secret (razorpay.com/docs/webhooks/validate-test/),
// computed with Node's crypto and checked with the razorpay package's
// own validateWebhookSignature. X-Razorpay-Event-Id is not signed: a
// signed body sent again under a new event id is still a duplicate.
'use strict';
const crypto = require('crypto');
const Razorpay = require('razorpay');

function headers(key, body, id) {
  const sig = crypto.createHmac('sha256', key).update(body).digest('hex');
  if (!Razorpay.validateWebhookSignature(body, sig, key))
    throw new Error('razorpay validateWebhookSignature refuses the signature');
  return { 'content-type': 'application/json', 'x-razorpay-event-id': id, 'x-razorpay-signature': sig };
}
const signer = (id) => ({ key, body }) => ({ headers: headers(key, body, id) });

// Razorpay's payment.captured and order.paid examples
// (razorpay.com/docs/webhooks/payloads/payments/), abridged.
const payment = {
  id: 'pay_DESlfW9H8K9uqM', entity: 'payment', amount: 100, currency: 'INR', status: 'captured',
  order_id: 'order_DESlLckIVRkHWj', method: 'netbanking', amount_refunded: 0, captured: true,
  description: null, bank: 'HDFC', email: 'gaurav.kumar@example.com', contact: '+919876543210',
  notes: [], fee: 2, tax: 0, created_at: 1567674599,
};
const captured = {
  entity: 'event', account_id: 'acc_BFQ7uQEaa7j2z7', event: 'payment.captured',
  contains: ['payment'], payload: { payment: { entity: payment } }, created_at: 1567674606,
};
const paid = {
  entity: 'event', account_id: 'acc_BFQ7uQEaa7j2z7', event: 'order.paid',
  contains: ['payment', 'order'],
  payload: {
    payment: { entity: payment },
    order: { entity: { id: 'order_DESlLckIVRkHWj', entity: 'order', amount: 100, amount_paid: 100,
      amount_due: 0, currency: 'INR', receipt: 'rcptid #1', status: 'paid', attempts: 1,
      notes: [], created_at: 1567674581 } },
  },
  created_at: 1567674606,
};

module.exports = {
  integration: 'razorpay',
  signer: 'node:crypto per razorpay.com/docs/webhooks/validate-test/, checked with razorpay validateWebhookSignature',
  secret: 'whsec_d3c6f1a8b2e94f7c',
  signature_headers: ['x-razorpay-signature'],
  deliveries: [
    { name: 'payment.captured, Razorpay\'s example', body: captured, type: 'payment.captured',
      delivery_id: 'KFH3k2ZbTq2JPk', sign: signer('KFH3k2ZbTq2JPk') },
    { name: 'order.paid, Razorpay\'s example', body: paid, type: 'order.paid',
      delivery_id: 'KFH3k3AcUr3KQl', sign: signer('KFH3k3AcUr3KQl') },
    { name: 'payment.captured retried (the same event id)', body: captured, type: null,
      negatives: false, sign: signer('KFH3k2ZbTq2JPk') },
    { name: 'payment.captured under a new event id: the signed body was seen', body: captured,
      type: null, negatives: false, sign: signer('ZZZ9k2ZbTq2JPk') },
  ],
};
