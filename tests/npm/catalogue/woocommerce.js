// WooCommerce: X-WC-Webhook-Signature, the base64 HMAC-SHA256 of the
// body under the webhook's secret, made with Node's crypto as
// WC_Webhook::generate_signature does (woocommerce.com/document/webhooks,
// plugins/woocommerce/includes/class-wc-webhook.php); the ping sent when
// a webhook is saved ("webhook_id=N", unsigned) is answered 200.
'use strict';
const crypto = require('crypto');

const headers = (key, body, topic, delivery) => ({
  'content-type': 'application/json',
  'user-agent': 'WooCommerce/9.1.2 Hookshot (WordPress/6.5.3)',
  'x-wc-webhook-source': 'https://shop.example.com/',
  'x-wc-webhook-topic': topic,
  'x-wc-webhook-resource': topic.split('.')[0],
  'x-wc-webhook-event': topic.split('.')[1],
  'x-wc-webhook-id': '42',
  'x-wc-webhook-delivery-id': delivery,
  'x-wc-webhook-signature': crypto.createHmac('sha256', key).update(body).digest('base64'),
});

// An order as the REST API (v3) shows it, from its documentation.
const order = {
  id: 727, parent_id: 0, number: '727', order_key: 'wc_order_58d2d042d1d', created_via: 'rest-api',
  version: '3.0.0', status: 'processing', currency: 'USD', date_created: '2017-03-22T16:28:02',
  date_modified: '2017-03-22T16:28:08', discount_total: '0.00', shipping_total: '10.00',
  total: '29.35', total_tax: '1.35', customer_id: 0, payment_method: 'bacs',
  payment_method_title: 'Direct Bank Transfer', set_paid: true,
  billing: { first_name: 'John', last_name: 'Doe', address_1: '969 Market', city: 'San Francisco', state: 'CA', postcode: '94103', country: 'US', email: 'john.doe@example.com', phone: '(555) 555-5555' },
  line_items: [{ id: 315, name: 'Woo Single #1', product_id: 93, quantity: 2, subtotal: '6.00', total: '6.00', sku: '', price: 3 }],
};
const product = { id: 794, name: 'Premium Quality', slug: 'premium-quality-19', type: 'simple', status: 'publish', regular_price: '21.99', price: '21.99', date_modified: '2017-03-23T17:01:14' };

module.exports = {
  integration: 'woocommerce',
  signer: 'docs: woocommerce.com/document/webhooks (node:crypto HMAC-SHA256 base64)',
  secret: 'gK2+f7e<3Y!rTq9$wZ1vLx',
  signature_headers: ['x-wc-webhook-signature'],
  deliveries: [
    { name: 'order.created', body: order, type: 'order.created', delivery_id: 'd1a8f0e2',
      sign: ({ key, body }) => ({ headers: headers(key, body, 'order.created', 'd1a8f0e2') }),
      check: (e) => e.payload.total === '29.35' ? null : `stored ${JSON.stringify(e.payload)}` },
    { name: 'product.updated', body: product, type: 'product.updated', delivery_id: 'd1a8f0e3',
      sign: ({ key, body }) => ({ headers: headers(key, body, 'product.updated', 'd1a8f0e3') }) },
    // The same signed body again under a new delivery id (a replay).
    { name: 'product.updated replayed under another delivery id', body: product,
      type: null, negatives: false,
      sign: ({ key, body }) => ({ headers: headers(key, body, 'product.updated', 'd1a8f0e4') }) },
  ],
  handshakes: [
    { name: 'ping (webhook_id=42, unsigned)',
      request: () => ({ method: 'POST', body: 'webhook_id=42',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
          'user-agent': 'WooCommerce/9.1.2 Hookshot (WordPress/6.5.3)' } }),
      status: 200, body: '' },
  ],
};
