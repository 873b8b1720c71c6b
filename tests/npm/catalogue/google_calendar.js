// Google Calendar push notifications: the channel's token comes back in
// X-Goog-Channel-Token on every notification, with no body
// (https://developers.google.com/workspace/calendar/api/guides/push#receiving-notifications).
'use strict';

let n = 0;
const sign = (state) => ({ key }) => ({
  headers: {
    'x-goog-channel-id': '01234567-89ab-cdef-0123456789ab',
    'x-goog-channel-token': key,
    'x-goog-channel-expiration': 'Tue, 19 Nov 2026 01:13:52 GMT',
    'x-goog-resource-id': 'ret08u3rv24htgh289g',
    'x-goog-resource-uri': 'https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json',
    'x-goog-resource-state': state,
    'x-goog-message-number': String(state === 'sync' ? 1 : 10 + ++n),
  },
  body: '',
});

module.exports = {
  integration: 'google_calendar',
  signer: 'docs: developers.google.com calendar push (channel token)',
  secret: 'gcal-channel-token-6d1f9a3c7b2e',
  signature_headers: ['x-goog-channel-token'],
  deliveries: [{
    name: 'sync', body: '', type: 'sync', delivery_id: '01234567-89ab-cdef-0123456789ab:1',
    tamper: false, sign: sign('sync'),
  }, {
    name: 'exists', body: '', type: 'exists', tamper: false, sign: sign('exists'),
  }],
};
