// Vercel: x-vercel-signature, the hex HMAC-SHA1 of the body under the
// webhook's secret (vercel.com/docs/webhooks/webhooks-api#securing-webhooks),
// with Node's crypto.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({ headers: {
  'content-type': 'application/json',
  'x-vercel-signature': crypto.createHmac('sha1', key).update(body).digest('hex'),
} });

const succeeded = {
  id: 'uevt_4dDr6dXn1dL7TMhy6T8CcCSk', type: 'deployment.succeeded', createdAt: 1715706346383, region: 'sfo1',
  payload: {
    team: { id: 'team_4a1b2c3d4e5f' }, user: { id: 'user_9z8y7x6w5v' },
    deployment: { id: 'dpl_2bGZcSP8M9bQoq6xcw6LcVh7', meta: { githubCommitRef: 'main' }, url: 'my-app-abc123.vercel.app', name: 'my-app' },
    links: { deployment: 'https://vercel.com/acme/my-app/2bGZcSP8M9bQoq6xcw6LcVh7', project: 'https://vercel.com/acme/my-app' },
    target: 'production', project: { id: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB' }, plan: 'pro', regions: ['sfo1'],
  },
};
const created = { id: 'uevt_5eEs7eYo2eM8UNiz7U9DdDTl', type: 'project.created', createdAt: 1715706400000,
  payload: { team: { id: 'team_4a1b2c3d4e5f' }, user: { id: 'user_9z8y7x6w5v' }, project: { id: 'prj_34JKQbPnS6u6Vz7wedRtOJjAhIHC', name: 'my-new-app' } } };

module.exports = {
  integration: 'vercel',
  signer: 'docs: vercel.com/docs/webhooks/webhooks-api#securing-webhooks (node:crypto HMAC-SHA1)',
  secret: 'Ab3dE5gH7jK9mN1pQ3sT5vW7',
  deliveries: [
    { name: 'deployment.succeeded', body: succeeded, type: 'deployment.succeeded', delivery_id: succeeded.id, sign },
    { name: 'project.created', body: created, type: 'project.created', delivery_id: created.id, sign },
  ],
};
