// Zendesk: X-Zendesk-Webhook-Signature, base64(HMAC-SHA256(secret,
// timestamp + body)), with X-Zendesk-Webhook-Signature-Timestamp
// (https://developer.zendesk.com/documentation/webhooks/verifying/), with
// Node's crypto; a Zendesk event (ticket created).
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => {
  const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    headers: {
      'content-type': 'application/json',
      'x-zendesk-webhook-id': '01GHXYZ7Q8R2XJTP0NW5T1AB2C',
      'x-zendesk-webhook-invocation-id': '8350205582',
      'x-zendesk-webhook-signature-timestamp': ts,
      'x-zendesk-webhook-signature': crypto.createHmac('sha256', key).update(ts + body).digest('base64'),
    },
  };
};

module.exports = {
  integration: 'zendesk',
  signer: 'docs: developer.zendesk.com/documentation/webhooks/verifying (node:crypto)',
  secret: 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==',
  signature_headers: ['x-zendesk-webhook-signature', 'x-zendesk-webhook-signature-timestamp'],
  deliveries: [{
    name: 'ticket.created',
    body: {
      type: 'zen:event-type:ticket.created', account_id: 22129848,
      id: 'cbe4028c-7239-495d-b020-f22348516046', time: '2024-05-01T12:00:00Z',
      zendesk_event_version: '2022-11-06', subject: 'zen:ticket:35436',
      detail: { id: '35436', subject: 'Help, my printer is on fire!', status: 'NEW', priority: 'HIGH' },
      event: { meta: { sequence: { id: 'MzU0MzY=', position: 1, total: 1 } } },
    },
    type: 'zen:event-type:ticket.created',
    delivery_id: 'cbe4028c-7239-495d-b020-f22348516046',
    sign,
  }],
};
