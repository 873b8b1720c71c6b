// CircleCI: circleci-signature "v1=…", the hex HMAC-SHA256 of the body
// under the webhook's secret token (circleci.com/docs/webhooks/, "Validate
// webhooks"), with Node's crypto.
'use strict';
const crypto = require('crypto');

const mac = (key, body) => crypto.createHmac('sha256', key).update(body).digest('hex');
const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'circleci-event-type': JSON.parse(body).type,
    'circleci-signature': 'v1=' + mac(key, body),
  },
});

// CircleCI's workflow-completed and job-completed examples
// (circleci.com/docs/webhooks-reference/), abridged.
const common = {
  happened_at: '2021-09-01T22:49:34.317Z',
  webhook: { id: 'cf8c4fdd-0587-4da1-b4ca-4846e9640af9', name: 'Sample Webhook' },
  project: { id: '84996744-a854-4f5e-aea3-04e2851dc1d2', name: 'webhook-service', slug: 'github/circleci/webhook-service' },
  organization: { id: 'f22b6566-597d-46d5-ba74-99ef5bb3d85c', name: 'circleci' },
  pipeline: {
    id: '1285fe1d-d3a6-44fc-8886-8979558254c4', number: 130, created_at: '2021-09-01T22:49:03.544Z',
    trigger: { type: 'webhook' },
    vcs: { provider_name: 'github', origin_repository_url: 'https://github.com/circleci/webhook-service',
      target_repository_url: 'https://github.com/circleci/webhook-service',
      revision: '1dc6aa69429bff4806ad6afe58d3d8f57e25973e', commit: { subject: 'Description of change',
        body: 'More details about the change', author: { name: 'Author Name', email: 'author.email@example.com' },
        authored_at: '2021-09-01T22:48:53Z' }, branch: 'main' },
  },
};
const workflow = Object.assign({
  type: 'workflow-completed', id: '3888f21b-eaa7-38e3-8f3d-75a63bba8895',
  workflow: { id: 'fda08377-fe7e-46b1-8992-3a7aaecac9c3', name: 'build-test-deploy',
    created_at: '2021-09-01T22:49:03.616Z', stopped_at: '2021-09-01T22:49:34.170Z',
    url: 'https://app.circleci.com/pipelines/github/circleci/webhook-service/130/workflows/fda08377-fe7e-46b1-8992-3a7aaecac9c3',
    status: 'success' },
}, common);
const job = Object.assign({
  type: 'job-completed', id: '8bd26ba5-2e3f-3ebb-9a7a-4e2d7c4fa3b1',
  workflow: workflow.workflow,
  job: { id: '8bd26ba5-2e3f-3ebb-9a7a-4e2d7c4fa3b1', name: 'test', number: 136,
    started_at: '2021-09-01T22:49:28.841Z', stopped_at: '2021-09-01T22:49:34.170Z', status: 'failed' },
}, common);

module.exports = {
  integration: 'circleci',
  signer: 'node:crypto per circleci.com/docs/webhooks/',
  secret: 'whsec_7b2d9e4f1a6c8305',
  signature_headers: ['circleci-signature'],
  deliveries: [
    { name: 'workflow-completed, CircleCI\'s example', body: workflow, type: 'workflow-completed',
      delivery_id: workflow.id, sign },
    { name: 'job-completed, CircleCI\'s example', body: job, type: 'job-completed',
      delivery_id: job.id, sign },
    { name: 'workflow-completed retried: a duplicate', body: workflow, type: null,
      negatives: false, sign },
    { name: 'two v1 signatures, ours second', type: 'workflow-completed',
      body: Object.assign({}, workflow, { id: '4999e32c-fbb8-49f4-9f4a-86b74ccb9906' }),
      delivery_id: '4999e32c-fbb8-49f4-9f4a-86b74ccb9906',
      sign: ({ key, body }) => ({ headers: { 'content-type': 'application/json',
        'circleci-signature': `v1=${mac('an older token', body)},v1=${mac(key, body)}` } }) },
  ],
};
