// PagerDuty V3 webhooks: X-PagerDuty-Signature "v1=…[,v1=…]", the hex
// HMAC-SHA256 of the body under the subscription's secret, one v1 per
// secret while it is being rotated (developer.pagerduty.com/docs/
// webhooks-overview, "Verifying Signatures"), with Node's crypto.
'use strict';
const crypto = require('crypto');

const mac = (key, body) => crypto.createHmac('sha256', key).update(body).digest('hex');
const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-webhook-id': '2a7df5d4-16ab-4cbb-9a57-e5e1b9c24fa1',
    'x-webhook-subscription': 'PY1OQ2H',
    'x-pagerduty-signature': 'v1=' + mac(key, body),
  },
});

// PagerDuty's incident.triggered and pagey.ping examples
// (developer.pagerduty.com/docs/webhooks-overview, "Webhook Payload"),
// abridged.
const triggered = {
  event: {
    id: '01BZ3WPEN9W4R1KB8X8XDJJ8WR', event_type: 'incident.triggered',
    resource_type: 'incident', occurred_at: '2020-10-02T18:45:22.169Z',
    agent: { html_url: 'https://acme.pagerduty.com/users/PLH1HKV', id: 'PLH1HKV', self: 'https://api.pagerduty.com/users/PLH1HKV', summary: 'Tenex Engineer', type: 'user_reference' },
    client: { name: 'PagerDuty' },
    data: {
      id: 'PGR0VU2', type: 'incident', self: 'https://api.pagerduty.com/incidents/PGR0VU2',
      html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2', number: 2,
      status: 'triggered', incident_key: 'd3640fbd41094207a1c11e58e46b1662',
      created_at: '2020-04-09T15:16:27Z', title: 'A little bump in the road', urgency: 'high',
      service: { html_url: 'https://acme.pagerduty.com/services/PF9KMXH', id: 'PF9KMXH', summary: 'API Service', type: 'service_reference' },
      assignees: [{ html_url: 'https://acme.pagerduty.com/users/PTUXL6G', id: 'PTUXL6G', summary: 'User 123', type: 'user_reference' }],
      escalation_policy: { id: 'PUS0KTE', summary: 'Default', type: 'escalation_policy_reference' },
      priority: { id: 'PSO75BM', summary: 'P1', type: 'priority_reference' },
    },
  },
};
const ping = {
  event: {
    id: '01BZ3X8TDYJ5GUDJ3ZT8WRJ2B6', event_type: 'pagey.ping', resource_type: 'pagey',
    occurred_at: '2021-12-08T22:08:13.282Z', agent: null, client: null,
    data: { message: 'Hello from your friend Pagey!', type: 'ping' },
  },
};

module.exports = {
  integration: 'pagerduty',
  signer: 'node:crypto per developer.pagerduty.com/docs/webhooks-overview#verifying-signatures',
  secret: 'ChNFGMKlDd0BhwtqtTcDC1yf2Yvo2jyxvFqr8Gz0YQydx0rjxoVUELXzNKPQGHfy',
  signature_headers: ['x-pagerduty-signature'],
  deliveries: [
    { name: 'incident.triggered, PagerDuty\'s example', body: triggered,
      type: 'incident.triggered', delivery_id: triggered.event.id, sign },
    { name: 'pagey.ping', body: ping, type: 'pagey.ping', delivery_id: ping.event.id, sign },
    { name: 'during a secret rotation (the new secret\'s v1 second)', type: 'incident.resolved',
      body: { event: Object.assign({}, triggered.event, { id: '01BZ3WPEN9W4R1KB8X8XDJJ8WS', event_type: 'incident.resolved' }) },
      delivery_id: '01BZ3WPEN9W4R1KB8X8XDJJ8WS',
      sign: ({ key, body }) => ({ headers: { 'content-type': 'application/json',
        'x-pagerduty-signature': `v1=${mac('an-older-secret', body)},v1=${mac(key, body)}` } }) },
    { name: 'incident.triggered retried: a duplicate', body: triggered, type: null,
      negatives: false, sign },
  ],
};
