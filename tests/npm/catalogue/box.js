// Box: BOX-SIGNATURE-PRIMARY (and -SECONDARY), the base64 HMAC-SHA256 of
// the body followed by BOX-DELIVERY-TIMESTAMP, under the primary (the
// secondary) signature key, the rule of
// https://developer.box.com/guides/webhooks/v2/signatures-v2/ , with
// Node's crypto; the example payload of Box's webhook guide.
'use strict';
const crypto = require('crypto');

const secondaryKey = 'Bx4C8Tz2Lm9Qp1Rw7Ys3Vn6Hk0Jd5Gf2';

// Box writes its timestamps with an offset: "2020-01-01T13:00:00-08:00".
const boxTime = (now) => new Date((now - 8 * 3600) * 1000).toISOString()
  .replace(/\.\d{3}Z$/, '-08:00');

const sign = ({ key, body, now }) => {
  const ts = boxTime(now);
  const sig = (k) => crypto.createHmac('sha256', k).update(body + ts).digest('base64');
  return {
    headers: {
      'content-type': 'application/json',
      'box-delivery-id': 'f96bb54b-ee16-4fc5-aa65-8c2d9e5b546f',
      'box-delivery-timestamp': ts,
      'box-signature-algorithm': 'HmacSHA256',
      'box-signature-primary': sig(key),
      'box-signature-secondary': sig(secondaryKey),
      'box-signature-version': '1',
    },
  };
};

module.exports = {
  integration: 'box',
  signer: 'docs: developer.box.com/guides/webhooks/v2/signatures-v2 (node:crypto)',
  secret: 'SamplePrimaryKey4B8x2Lm9Qp1Rw7Ys',
  // A primary signature left out still leaves the secondary, which
  // the subscription's key does not verify; the timestamp is needed.
  signature_headers: ['box-delivery-timestamp'],
  deliveries: [{
    name: 'FILE.UPLOADED, Box\'s example',
    body: JSON.stringify({
      type: 'webhook_event',
      id: '25a6bd4d-3a63-4d62-a6f8-48d8f0dd2c1a',
      created_at: '2020-01-01T13:00:00-08:00',
      trigger: 'FILE.UPLOADED',
      webhook: { id: '1234567', type: 'webhook' },
      created_by: { type: 'user', id: '12345678', name: 'John Doe', login: 'john@example.com' },
      source: {
        id: '123456789', type: 'file', name: 'Test.docx',
        parent: { type: 'folder', id: '11111111', name: 'Contracts' },
      },
      additional_info: [],
    }),
    type: 'FILE.UPLOADED',
    delivery_id: '25a6bd4d-3a63-4d62-a6f8-48d8f0dd2c1a',
    sign,
  }, {
    name: 'FOLDER.CREATED, with only the primary signature',
    body: JSON.stringify({
      type: 'webhook_event', id: '6a1a3c0e-4dd4-4d8e-9c1d-3b0d6a2f9e71',
      created_at: '2020-01-01T13:05:00-08:00', trigger: 'FOLDER.CREATED',
      webhook: { id: '1234567', type: 'webhook' },
      created_by: { type: 'user', id: '12345678', name: 'John Doe', login: 'john@example.com' },
      source: { id: '22222222', type: 'folder', name: 'Invoices' },
      additional_info: [],
    }),
    type: 'FOLDER.CREATED',
    delivery_id: '6a1a3c0e-4dd4-4d8e-9c1d-3b0d6a2f9e71',
    sign: async (a) => {
      const r = sign(a);
      delete r.headers['box-signature-secondary'];
      return r;
    },
    signature_headers: ['box-delivery-timestamp', 'box-signature-primary'],
  }],
};
