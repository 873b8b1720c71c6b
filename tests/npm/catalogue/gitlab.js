// GitLab: the hook's secret token, sent as it is in X-Gitlab-Token
// (https://docs.gitlab.com/user/project/integrations/webhooks/#validate-requests-with-a-secret-token);
// payloads from https://docs.gitlab.com/user/project/integrations/webhook_events/.
'use strict';
const crypto = require('crypto');

const sign = (event) => ({ key }) => ({
  headers: {
    'content-type': 'application/json',
    'x-gitlab-event': event,
    'x-gitlab-token': key,
    'x-gitlab-event-uuid': crypto.randomUUID(),
    'idempotency-key': crypto.randomUUID(),
  },
});

module.exports = {
  integration: 'gitlab',
  signer: 'docs: docs.gitlab.com webhooks, secret token (X-Gitlab-Token)',
  secret: 'gl-hook-token-5f2b8c91d4e6a7b3',
  signature_headers: ['x-gitlab-token'],
  deliveries: [{
    name: 'push',
    body: {
      object_kind: 'push', event_name: 'push', before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', ref: 'refs/heads/master', user_id: 4,
      user_name: 'John Smith', user_username: 'jsmith', project_id: 15,
      project: { id: 15, name: 'Diaspora', path_with_namespace: 'mike/diaspora', default_branch: 'master' },
      commits: [{ id: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327', message: 'Update Catalan translation to e38cb41.', timestamp: '2011-12-12T14:27:31+02:00' }],
      total_commits_count: 1,
    },
    type: 'push',
    sign: sign('Push Hook'),
    tamper: false,
  }, {
    name: 'merge_request (open)',
    body: {
      object_kind: 'merge_request', event_type: 'merge_request',
      user: { id: 1, name: 'Administrator', username: 'root' },
      project: { id: 1, name: 'Gitlab Test', path_with_namespace: 'gitlabhq/gitlab-test' },
      object_attributes: { id: 99, iid: 1, target_branch: 'master', source_branch: 'ms-viewport', title: 'MS-Viewport', state: 'opened', action: 'open' },
    },
    type: 'merge_request.open',
    sign: sign('Merge Request Hook'),
    tamper: false,
  }],
};
