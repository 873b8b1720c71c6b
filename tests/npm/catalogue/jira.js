// Jira Cloud: a webhook with a secret signs with X-Hub-Signature
// "sha256=" + the hex HMAC-SHA256 of the body
// (developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks),
// with Node's crypto.
'use strict';
const crypto = require('crypto');

const headers = (key, body, id) => ({
  'content-type': 'application/json',
  'user-agent': 'Atlassian Webhook HTTP Client',
  'x-atlassian-webhook-identifier': id,
  'x-hub-signature': 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex'),
});
const user = { accountId: '5b10a2844c20165700ede21g', displayName: 'Mia Krystof', active: true, timeZone: 'Australia/Sydney' };
const issue = {
  id: '10002', key: 'ED-1', self: 'https://your-domain.atlassian.net/rest/api/3/issue/10002',
  fields: { summary: 'Expenses must be approved', issuetype: { name: 'Bug' },
    status: { name: 'To Do' }, priority: { name: 'Medium' }, project: { key: 'ED', name: 'Edison' },
    created: '2024-05-14T17:05:46.383+0000', reporter: user },
};

module.exports = {
  integration: 'jira',
  signer: 'docs: developer.atlassian.com cloud/jira/platform/webhooks (node:crypto HMAC-SHA256)',
  secret: 'jira-hook-3b9e1f27c4d8',
  signature_headers: ['x-hub-signature'],
  deliveries: [
    { name: 'jira:issue_created', type: 'jira:issue_created', delivery_id: '1715706346383-10002-1',
      body: { timestamp: 1715706346383, webhookEvent: 'jira:issue_created', issue_event_type_name: 'issue_created', user, issue },
      sign: ({ key, body }) => ({ headers: headers(key, body, '1715706346383-10002-1') }) },
    { name: 'comment_created', type: 'comment_created', delivery_id: '1715706400000-10002-2',
      body: { timestamp: 1715706400000, webhookEvent: 'comment_created', comment: { id: '10000', body: 'Approved.', author: user, created: '2024-05-14T17:06:40.000+0000' }, issue },
      sign: ({ key, body }) => ({ headers: headers(key, body, '1715706400000-10002-2') }) },
  ],
};
