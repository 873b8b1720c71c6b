// DocuSign Connect: X-DocuSign-Signature-N, the base64 HMAC-SHA256 of
// the body under the Nth active Connect HMAC key
// (developers.docusign.com/platform/webhooks/connect/hmac/, "Validate
// messages"), with Node's crypto.
'use strict';
const crypto = require('crypto');

const mac = (key, body) => crypto.createHmac('sha256', key).update(body).digest('base64');
const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-authorization-digest': 'HMACSHA256',
    'x-docusign-signature-1': mac(key, body),
  },
});

// DocuSign's envelope-completed and recipient-completed JSON examples
// (developers.docusign.com/platform/webhooks/connect/json-sim-event-model),
// abridged.
const envelope = 'fa8e2cf1-7fcd-4a85-8b1f-0c3c4d6e7f80';
const completed = {
  event: 'envelope-completed', apiVersion: 'v2.1',
  uri: `/restapi/v2.1/accounts/d8e5f4c3-b2a1-4e9d-8c7b-6a5f4e3d2c1b/envelopes/${envelope}`,
  retryCount: 0, configurationId: 10418, generatedDateTime: '2022-01-19T22:03:32.7440000Z',
  data: {
    accountId: 'd8e5f4c3-b2a1-4e9d-8c7b-6a5f4e3d2c1b', userId: '2c5e7a9b-1d3f-4a6c-8e0b-2d4f6a8c0e2b',
    envelopeId: envelope,
    envelopeSummary: {
      status: 'completed', emailSubject: 'Please DocuSign: NDA.pdf',
      sender: { userName: 'Sally Sender', email: 'sally@example.com' },
      completedDateTime: '2022-01-19T22:03:31.4670000Z',
    },
  },
};
const recipient = {
  event: 'recipient-completed', apiVersion: 'v2.1', uri: completed.uri,
  retryCount: 0, configurationId: 10418, generatedDateTime: '2022-01-19T22:03:30.1230000Z',
  data: { accountId: completed.data.accountId, userId: completed.data.userId,
    envelopeId: envelope, recipientId: '1' },
};

module.exports = {
  integration: 'docusign',
  signer: 'node:crypto per developers.docusign.com/platform/webhooks/connect/hmac/',
  secret: 'fN4yJkbB5oY3Tq2mK8dW9xVhGzR7cLpA1sE6uI0wQtM=',
  signature_headers: ['x-docusign-signature-1'],
  deliveries: [
    { name: 'envelope-completed, DocuSign\'s example', body: completed, type: 'envelope-completed',
      delivery_id: `envelope-completed:${envelope}:2022-01-19T22:03:32.7440000Z`, sign },
    { name: 'recipient-completed', body: recipient, type: 'recipient-completed',
      delivery_id: `recipient-completed:${envelope}:1:2022-01-19T22:03:30.1230000Z`, sign },
    { name: 'with two keys, ours second (X-DocuSign-Signature-2)', type: 'envelope-sent',
      body: Object.assign({}, completed, { event: 'envelope-sent', generatedDateTime: '2022-01-19T21:00:00.0000000Z' }),
      delivery_id: `envelope-sent:${envelope}:2022-01-19T21:00:00.0000000Z`,
      signature_headers: [],
      sign: ({ key, body }) => ({ headers: { 'content-type': 'application/json',
        'x-docusign-signature-1': mac('another Connect key', body),
        'x-docusign-signature-2': mac(key, body) } }) },
    { name: 'envelope-completed retried (retryCount 1): a duplicate',
      body: Object.assign({}, completed, { retryCount: 1 }), type: null,
      negatives: false, sign },
  ],
};
