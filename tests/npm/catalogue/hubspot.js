// HubSpot, signature v3: X-HubSpot-Signature-v3, the base64
// HMAC-SHA256 of method, URL, body and X-HubSpot-Request-Timestamp (Unix
// milliseconds) under the app's client secret
// (developers.hubspot.com/docs/api/webhooks/validating-requests), with
// Node's crypto.
'use strict';
const crypto = require('crypto');

function headers(key, method, url, body, ms) {
  return {
    'content-type': 'application/json',
    'x-hubspot-request-timestamp': String(ms),
    'x-hubspot-signature-v3': crypto.createHmac('sha256', key)
      .update(method + url + body + ms).digest('base64'),
  };
}
const sign = ({ key, url, body, now }) => ({
  headers: headers(key, 'POST', url, body, now * 1000 + 123),
});

// HubSpot's example batch (developers.hubspot.com/docs/api/webhooks,
// "Webhook payloads").
const batch = [
  { objectId: 1246965, propertyName: 'lifecyclestage', propertyValue: 'subscriber',
    changeSource: 'ACADEMY', eventId: 3816279340, subscriptionId: 25, portalId: 33,
    appId: 1160452, occurredAt: 1462216307945, subscriptionType: 'contact.propertyChange',
    attemptNumber: 0 },
  { objectId: 1246978, changeSource: 'IMPORT', eventId: 3816279480, subscriptionId: 22,
    portalId: 33, appId: 1160452, occurredAt: 1462216307945,
    subscriptionType: 'contact.creation', attemptNumber: 0 },
];
const deal = [
  { objectId: 9876543, changeSource: 'CRM_UI', eventId: 100, subscriptionId: 41,
    portalId: 33, appId: 1160452, occurredAt: 1700000000000,
    subscriptionType: 'deal.creation', attemptNumber: 0 },
];

module.exports = {
  integration: 'hubspot',
  signer: 'node:crypto per developers.hubspot.com/docs/api/webhooks/validating-requests (v3)',
  secret: 'b6b1ee58-5e27-4f4c-9a9c-70d6e2ef5c3b',
  deliveries: [
    { name: 'a batch (contact.propertyChange, contact.creation), HubSpot\'s example',
      body: batch, type: 'contact.propertyChange',
      delivery_id: '33:25:3816279340:1462216307945', sign },
    { name: 'deal.creation, to the URL with a query string', body: deal,
      type: 'deal.creation', delivery_id: '33:41:100:1700000000000',
      sign: ({ key, url, body, now }) => ({ query: 'portal=33',
        headers: headers(key, 'POST', url + '?portal=33', body, now * 1000) }) },
    { name: 'signed without the query string', body: deal, type: null, status: 401,
      sign: ({ key, url, body, now }) => ({ query: 'portal=34',
        headers: headers(key, 'POST', url, body, now * 1000) }) },
    { name: 'signed as a PUT', body: deal, type: null, status: 401,
      sign: ({ key, url, body, now }) => ({ headers: headers(key, 'PUT', url, body, now * 1000) }) },
    { name: 'a timestamp in seconds (not what HubSpot sends)', body: deal, type: null, status: 401,
      sign: ({ key, url, body, now }) => ({ headers: headers(key, 'POST', url, body, now) }) },
    { name: 'the example batch retried: a duplicate', body: batch, type: null,
      negatives: false, sign },
  ],
};
