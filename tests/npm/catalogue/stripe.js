// Stripe: Stripe-Signature "t=…,v1=…", signed by the stripe npm package.
'use strict';
const Stripe = require('stripe');
const stripe = Stripe('sk_test_catalogue');

const event = {
  id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
  object: 'event',
  api_version: '2023-10-16',
  created: 1686089970,
  type: 'invoice.payment_failed',
  data: { object: { id: 'in_1NG8Dt2eZvKYlo2C', object: 'invoice', amount_due: 2000 } },
};

module.exports = {
  integration: 'stripe',
  signer: 'stripe npm webhooks.generateTestHeaderString',
  secret: 'whsec_test_c2VjcmV0X2Zvcl9jYXRhbG9ndWU',
  deliveries: [{
    name: 'invoice.payment_failed',
    body: event,
    type: 'invoice.payment_failed',
    delivery_id: event.id,
    sign: ({ key, body, now }) => ({
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({
          payload: body, secret: key, timestamp: now,
        }),
      },
    }),
  }],
};
