// Sentry integration platform: Sentry-Hook-Signature, the hex
// HMAC-SHA256 of the body under the integration's client secret
// (docs.sentry.io/organization/integrations/integration-platform/webhooks/
// #sentry-hook-signature), with Node's crypto.
'use strict';
const crypto = require('crypto');

const headers = (key, body, resource, id, now) => ({
  'content-type': 'application/json',
  'request-id': id,
  'sentry-hook-resource': resource,
  'sentry-hook-timestamp': String(now),
  'sentry-hook-signature': crypto.createHmac('sha256', key).update(body, 'utf8').digest('hex'),
});
const installation = { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' };

// From Sentry's issue and installation webhook examples, abridged.
const issue = {
  action: 'created', installation,
  data: { issue: {
    id: '1170820242', shortId: 'SCRAP-1', title: 'Error: Something went wrong', culprit: 'captureException(app/index)',
    level: 'error', status: 'unresolved', platform: 'javascript', firstSeen: '2019-08-19T20:58:37.391000Z',
    project: { id: '1', name: 'scrapbook', slug: 'scrapbook', platform: 'javascript' },
    url: 'https://sentry.io/api/0/organizations/example/issues/1170820242/',
  } },
  actor: { type: 'application', id: 'sentry', name: 'Sentry' },
};
const installed = {
  action: 'created', installation,
  data: { installation: { app: { uuid: '2e2f1d2d-9d49-4a6d-8b1e-8f4f3a8d6e5b', slug: 'hookpipe' }, organization: { slug: 'example' }, uuid: installation.uuid, status: 'installed' } },
  actor: { type: 'user', id: 1, name: 'Jane' },
};

const sign = (resource, id) => ({ key, body, now }) => ({ headers: headers(key, body, resource, id, now) });

module.exports = {
  integration: 'sentry',
  signer: 'docs: docs.sentry.io integration-platform webhooks (node:crypto HMAC-SHA256)',
  secret: 'f1c0a4e2b7d9385c6e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a',
  signature_headers: ['sentry-hook-signature'],
  deliveries: [
    { name: 'issue.created', body: issue, type: 'issue.created',
      delivery_id: '88c1d2a5-1a3e-4d6b-9a57-3a2b6f0f1e01', sign: sign('issue', '88c1d2a5-1a3e-4d6b-9a57-3a2b6f0f1e01') },
    { name: 'installation.created', body: installed, type: 'installation.created',
      delivery_id: '88c1d2a5-1a3e-4d6b-9a57-3a2b6f0f1e02', sign: sign('installation', '88c1d2a5-1a3e-4d6b-9a57-3a2b6f0f1e02') },
  ],
};
