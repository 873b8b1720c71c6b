// Bitbucket Cloud: X-Hub-Signature "sha256=" + the hex HMAC-SHA256 of
// the body under the webhook's secret (support.atlassian.com/bitbucket-
// cloud/docs/manage-webhooks/#Secure-webhooks), with Node's crypto.
'use strict';
const crypto = require('crypto');

const headers = (key, body, event, uuid) => ({
  'content-type': 'application/json',
  'user-agent': 'Bitbucket-Webhooks/2.0',
  'x-event-key': event,
  'x-request-uuid': uuid,
  'x-hook-uuid': 'c6dcd02a-5d1a-4b1f-8a4e-2e3d0b8c9f10',
  'x-attempt-number': '1',
  'x-hub-signature': 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex'),
});
const actor = { display_name: 'Emma', type: 'user', uuid: '{a54f16da-24e9-4d7f-a3a7-b1ba2cd98aa3}', account_id: '557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443' };
const repository = { type: 'repository', full_name: 'team_name/repo_name', name: 'repo_name', uuid: '{673a6070-3421-46c9-9d48-90745f7bfe8e}', is_private: true, workspace: { slug: 'team_name', type: 'workspace' } };
const push = {
  actor, repository,
  push: { changes: [{
    old: { type: 'branch', name: 'main', target: { type: 'commit', hash: '1e65c05c1d5171631d92438a13901ca7dae9618c' } },
    new: { type: 'branch', name: 'main', target: { type: 'commit', hash: '709d658dc5b6d6afcd46049c2f332ee3f515a67d', message: 'Fix the build\n', date: '2024-05-14T17:05:46+00:00' } },
    created: false, forced: false, closed: false,
    commits: [{ hash: '709d658dc5b6d6afcd46049c2f332ee3f515a67d', type: 'commit', message: 'Fix the build\n' }],
    truncated: false,
  }] },
};
const pr = {
  actor, repository,
  pullrequest: { id: 7, title: 'Add the parser', state: 'OPEN', type: 'pullrequest',
    source: { branch: { name: 'parser' } }, destination: { branch: { name: 'main' } },
    created_on: '2024-05-14T17:05:46.383Z', updated_on: '2024-05-14T17:05:46.383Z' },
};

module.exports = {
  integration: 'bitbucket',
  signer: 'docs: support.atlassian.com bitbucket-cloud manage-webhooks (node:crypto HMAC-SHA256)',
  secret: 'bb-whk-5f0c9a1d7e3b4a2c',
  signature_headers: ['x-hub-signature'],
  deliveries: [
    { name: 'repo:push', body: push, type: 'repo:push',
      delivery_id: '5f3e4a9e-0b4c-4a0b-9a55-2c6a5f2b7d01',
      sign: ({ key, body }) => ({ headers: headers(key, body, 'repo:push', '5f3e4a9e-0b4c-4a0b-9a55-2c6a5f2b7d01') }) },
    { name: 'pullrequest:created', body: pr, type: 'pullrequest:created',
      delivery_id: '5f3e4a9e-0b4c-4a0b-9a55-2c6a5f2b7d02',
      sign: ({ key, body }) => ({ headers: headers(key, body, 'pullrequest:created', '5f3e4a9e-0b4c-4a0b-9a55-2c6a5f2b7d02') }) },
  ],
};
