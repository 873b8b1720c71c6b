// Shopify: X-Shopify-Hmac-Sha256, the base64 HMAC-SHA256 of the body
// under the app's client secret (shopify.dev/docs/apps/build/webhooks/
// subscribe/https#step-5-verify-the-webhook), with Node's crypto.
'use strict';
const crypto = require('crypto');

const headers = (key, body, topic, id) => ({
  'content-type': 'application/json',
  'x-shopify-topic': topic,
  'x-shopify-hmac-sha256': crypto.createHmac('sha256', key).update(body, 'utf8').digest('base64'),
  'x-shopify-shop-domain': 'example-shop.myshopify.com',
  'x-shopify-api-version': '2025-07',
  'x-shopify-webhook-id': id,
  'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  'x-shopify-triggered-at': '2025-07-01T12:00:00.000Z',
});

// Shopify's orders/create example payload, abridged.
const order = {
  id: 820982911946154508, admin_graphql_api_id: 'gid://shopify/Order/820982911946154508',
  email: 'jon@example.com', created_at: '2021-12-31T19:00:00-05:00', currency: 'USD',
  financial_status: 'voided', name: '#9999', order_number: 1234, total_price: '398.00',
  customer: { id: 115310627314723954, email: 'john@example.com', first_name: 'John', last_name: 'Smith' },
  line_items: [{ id: 866550311766439020, title: 'IPod Nano - 8GB', quantity: 1, price: '199.00', sku: 'IPOD2008PINK' }],
};
const product = { id: 788032119674292922, admin_graphql_api_id: 'gid://shopify/Product/788032119674292922', title: 'Example T-Shirt', status: 'active', updated_at: '2021-12-31T19:00:00-05:00' };

module.exports = {
  integration: 'shopify',
  signer: 'docs: shopify.dev webhooks/subscribe/https (node:crypto HMAC-SHA256 base64)',
  secret: 'shpss_0123456789abcdef0123456789abcdef',
  signature_headers: ['x-shopify-hmac-sha256'],
  deliveries: [
    { name: 'orders/create, Shopify\'s example', body: order, type: 'orders/create',
      delivery_id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      sign: ({ key, body }) => ({ headers: headers(key, body, 'orders/create', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043') }) },
    { name: 'products/update', body: product, type: 'products/update',
      delivery_id: 'c0ffee00-bdd9-4b37-8a5f-bf7d70bcd044',
      sign: ({ key, body }) => ({ headers: headers(key, body, 'products/update', 'c0ffee00-bdd9-4b37-8a5f-bf7d70bcd044') }) },
    { name: 'orders/create retried (the same X-Shopify-Webhook-Id)', body: order, type: null,
      negatives: false,
      sign: ({ key, body }) => ({ headers: headers(key, body, 'orders/create', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043') }) },
  ],
};
