// Notion: X-Notion-Signature "sha256=" + the hex HMAC-SHA256 of the
// body under the subscription's verification_token
// (developers.notion.com/reference/webhooks#step-3-validating-event-payloads-recommended),
// with Node's crypto. The verification request hands the token over: it
// becomes the subscription's secret (here the subscription has it
// already: the same token is answered again, another one refused).
'use strict';
const crypto = require('crypto');

const TOKEN = 'secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl';
const sign = ({ key, body }) => ({ headers: {
  'content-type': 'application/json',
  'x-notion-signature': 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex'),
} });

// Notion's page.created and comment.created examples.
const page = {
  id: '367cba44-b6f3-4c92-81e7-6a2e9659efd4', timestamp: '2024-12-05T23:55:34.285Z',
  workspace_id: '13950b26-c203-4f3b-b97d-93ec06319565', workspace_name: 'Quantify Labs',
  subscription_id: '29d75c0d-5546-4414-8459-7b7a92f1fc4b', integration_id: '0ef2e755-4912-8096-91c1-00376a88a5ca',
  authors: [{ id: 'c7c11cca-1d73-471d-9b6e-bdef51470190', type: 'person' }],
  accessible_by: [{ id: '556a1abf-4f08-40c6-878a-75890d2a88ba', type: 'person' }, { id: '1edc05f6-2702-81b5-8408-00279347f034', type: 'bot' }],
  attempt_number: 1, type: 'page.created',
  entity: { id: '153104cd-477e-809d-8dc4-ff2d96ae3090', type: 'page' },
  data: { parent: { id: '13950b26-c203-4f3b-b97d-93ec06319565', type: 'space' } },
};
const comment = {
  id: 'c6bd5b7d-3f32-4e2b-9b16-ab5e3e7c9d7a', timestamp: '2024-12-05T20:46:44.000Z',
  workspace_id: '13950b26-c203-4f3b-b97d-93ec06319565', workspace_name: 'Quantify Labs',
  subscription_id: '29d75c0d-5546-4414-8459-7b7a92f1fc4b', integration_id: '0ef2e755-4912-8096-91c1-00376a88a5ca',
  authors: [{ id: 'c7c11cca-1d73-471d-9b6e-bdef51470190', type: 'person' }],
  attempt_number: 1, type: 'comment.created',
  entity: { id: '15a104cd-477e-80cd-9bd6-001d04e7e5b0', type: 'comment' },
  data: { page_id: '0ef104cd-477e-80e1-8571-cfd10e92339a', parent: { id: '0ef104cd-477e-80e1-8571-cfd10e92339a', type: 'page' } },
};

module.exports = {
  integration: 'notion',
  signer: 'docs: developers.notion.com/reference/webhooks (node:crypto HMAC-SHA256)',
  secret: TOKEN,
  deliveries: [
    { name: 'page.created, Notion\'s example', body: page, type: 'page.created', delivery_id: page.id, sign },
    { name: 'comment.created, Notion\'s example', body: comment, type: 'comment.created', delivery_id: comment.id, sign },
    // A retry carries the same id and a higher attempt_number.
    { name: 'page.created, attempt 2', body: Object.assign({}, page, { attempt_number: 2 }),
      type: null, negatives: false, sign },
  ],
  handshakes: [
    { name: 'verification, the subscription\'s token again',
      request: () => ({ method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ verification_token: TOKEN }) }),
      status: 200, body: '' },
    { name: 'verification with another token',
      request: () => ({ method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ verification_token: 'secret_someoneElse0000000000000000000000000000' }) }),
      status: 409 },
  ],
};
