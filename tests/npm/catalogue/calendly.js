// Calendly: Calendly-Webhook-Signature "t=…,v1=…", the hex HMAC-SHA256
// of "t.body" under the subscription's signing key
// (developer.calendly.com/docs/webhooks/overview, "Signature"), with
// Node's crypto.
'use strict';
const crypto = require('crypto');

const header = (key, t, body) =>
  `t=${t},v1=${crypto.createHmac('sha256', key).update(`${t}.${body}`).digest('hex')}`;
const sign = ({ key, body, now }) => ({
  headers: { 'content-type': 'application/json', 'calendly-webhook-signature': header(key, now, body) },
});

// Calendly's invitee.created and invitee.canceled examples
// (developer.calendly.com/api-docs/.../webhook-payload), abridged.
const invitee = 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA';
const scheduled = {
  uri: 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2', name: '15 Minute Meeting',
  status: 'active', start_time: '2019-08-24T14:15:22.123456Z', end_time: '2019-08-24T14:30:22.123456Z',
  event_type: 'https://api.calendly.com/event_types/GBGBDCAADAEDCRZ2',
  location: { type: 'physical', location: 'Calendly Office' },
  event_memberships: [{ user: 'https://api.calendly.com/users/GBGBDCAADAEDCRZ2' }],
};
const created = {
  created_at: '2020-11-23T17:51:19.000000Z',
  created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
  event: 'invitee.created',
  payload: {
    uri: invitee, email: 'test@example.com', name: 'John Doe', first_name: null, last_name: null,
    status: 'active', timezone: 'America/New_York', rescheduled: false, old_invitee: null, new_invitee: null,
    questions_and_answers: [{ question: 'What is your favorite color?', answer: 'blue', position: 0 }],
    tracking: { utm_campaign: null, utm_source: null, utm_medium: null, utm_content: null, utm_term: null, salesforce_uuid: null },
    cancel_url: 'https://calendly.com/cancellations/AAAAAAAAAAAAAAAA',
    reschedule_url: 'https://calendly.com/reschedulings/AAAAAAAAAAAAAAAA',
    created_at: '2020-11-23T17:51:18.327602Z', updated_at: '2020-11-23T17:51:18.341657Z',
    scheduled_event: scheduled,
  },
};
const canceled = {
  created_at: '2020-11-24T09:02:11.000000Z',
  created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
  event: 'invitee.canceled',
  payload: Object.assign({}, created.payload, {
    status: 'canceled', updated_at: '2020-11-24T09:02:10.341657Z',
    cancellation: { canceled_by: 'John Doe', reason: 'Something came up', canceler_type: 'invitee' },
    scheduled_event: Object.assign({}, scheduled, { status: 'canceled' }),
  }),
};

module.exports = {
  integration: 'calendly',
  signer: 'node:crypto per developer.calendly.com/docs/webhooks/overview',
  secret: '2b7e2d1fd6f3a8f0c9b84c6a1e5d3f7a9c0b1d2e3f4a5b6c7d8e9f0a1b2c3d4e',
  deliveries: [
    { name: 'invitee.created, Calendly\'s example', body: created, type: 'invitee.created',
      delivery_id: `invitee.created:${invitee}:2020-11-23T17:51:19.000000Z`, sign },
    { name: 'invitee.canceled of the same invitee', body: canceled, type: 'invitee.canceled',
      delivery_id: `invitee.canceled:${invitee}:2020-11-24T09:02:11.000000Z`, sign },
    { name: 'invitee.created retried: a duplicate', body: created, type: null,
      negatives: false, sign },
    { name: 'a signature ten minutes old', body: canceled, type: null, status: 401,
      sign: ({ key, body, now }) => ({ headers: { 'content-type': 'application/json',
        'calendly-webhook-signature': header(key, now - 600, body) } }) },
  ],
};
