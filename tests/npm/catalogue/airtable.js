// Airtable: X-Airtable-Content-MAC: hmac-sha256=hex(HMAC-SHA256(
// base64-decoded macSecretBase64, body))
// (https://airtable.com/developers/web/api/webhooks-overview#webhook-notification-delivery),
// with Node's crypto; the notification ping.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-airtable-content-mac': 'hmac-sha256=' + crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(body).digest('hex'),
  },
});

module.exports = {
  integration: 'airtable',
  signer: 'docs: airtable.com/developers/web/api/webhooks-overview (node:crypto)',
  secret: 'J3zM1b7QkP0y5cXr8Vd2sN6wHq9TfLa4Ue0GiRoB1Ck=',
  wrong_secret: 'K3zM1b7QkP0y5cXr8Vd2sN6wHq9TfLa4Ue0GiRoB1Ck=',
  deliveries: [{
    name: 'ping',
    body: { base: { id: 'appYF3RVQwO8mwOxS' }, webhook: { id: 'achW8ueX9cEqgXJbJ' }, timestamp: '2022-02-01T21:25:05.663Z' },
    type: 'ping',
    delivery_id: 'achW8ueX9cEqgXJbJ:2022-02-01T21:25:05.663Z',
    sign,
  }],
};
