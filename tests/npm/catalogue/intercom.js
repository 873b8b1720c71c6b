// Intercom: X-Hub-Signature "sha1=…", the hex HMAC-SHA1 of the body under
// the app's client_secret (developers.intercom.com/docs/webhooks/
// webhook-notifications, "Signed notifications"), with Node's crypto.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-hub-signature': 'sha1=' + crypto.createHmac('sha1', key).update(body).digest('hex'),
  },
});

// Intercom's examples (the webhook notification and ping of
// developers.intercom.com/docs/webhooks), abridged.
const created = {
  type: 'notification_event', app_id: 'ekh5t1cg',
  data: {
    type: 'notification_event_data',
    item: {
      type: 'conversation', id: '147', created_at: 1400850973, updated_at: 1400857494,
      state: 'open', open: true, read: true,
      source: { type: 'conversation', id: '403918330', delivered_as: 'customer_initiated',
        subject: '', body: '<p>Hi Alice, I need help with my order</p>',
        author: { type: 'user', id: '536e564f316c83104c000020', name: 'Bob', email: 'bob@example.com' } },
      contacts: { type: 'contact.list', contacts: [{ type: 'contact', id: '536e564f316c83104c000020' }] },
    },
  },
  links: {}, id: 'notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3',
  topic: 'conversation.user.created', delivery_status: 'pending', delivery_attempts: 1,
  delivered_at: 0, first_sent_at: 1392731331, created_at: 1392731331, self: null,
};
const ping = {
  type: 'notification_event', app_id: 'ekh5t1cg',
  data: { type: 'notification_event_data', item: { type: 'ping', message: 'something something interzen' } },
  links: {}, id: null, topic: 'ping', delivery_status: null, delivery_attempts: 1,
  delivered_at: 0, first_sent_at: 1392731331, created_at: 1392731331, self: null,
};

module.exports = {
  integration: 'intercom',
  signer: 'node:crypto per developers.intercom.com/docs/webhooks/webhook-notifications',
  secret: 'c2c4a7e2-6b89-4a4e-8b36-1f5e0a3d9c11',
  deliveries: [
    { name: 'conversation.user.created, Intercom\'s example', body: created,
      type: 'conversation.user.created', delivery_id: created.id, sign },
    { name: 'ping (its id is null)', body: ping, type: 'ping', sign },
    { name: 'conversation.user.created retried: a duplicate', body: created,
      type: null, negatives: false, sign },
    { name: 'signed as sha256', body: created, type: null, status: 401,
      sign: ({ key, body }) => ({ headers: { 'content-type': 'application/json',
        'x-hub-signature': 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex') } }) },
  ],
};
