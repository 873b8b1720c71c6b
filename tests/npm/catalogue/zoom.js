// Zoom: x-zm-signature "v0=" HMAC-SHA256(secret, "v0:" ts ":" body) in
// hex, the rule of https://developers.zoom.us/docs/api/webhooks/
// (Verify webhook events), with Node's crypto; the endpoint.url_validation
// handshake, whose encryptedToken is the HMAC of plainToken. Zoom signs
// the validation request too: its own sample (github.com/zoom/webhook-sample,
// index.js) answers it only once the signature matches, as hookpipe does.
'use strict';
const crypto = require('crypto');

const hmac = (key, s) => crypto.createHmac('sha256', key).update(s).digest('hex');

const sign = ({ key, body, now }) => ({
  headers: {
    'content-type': 'application/json',
    'x-zm-request-timestamp': String(now),
    'x-zm-signature': 'v0=' + hmac(key, `v0:${now}:${body}`),
  },
});

const secret = 'uSy2Wyqh0s2KbLwQuTdsvA';
// Zoom's documentation's example of the validation request.
const plainToken = 'qgg8vlvZRS6UYooatFL8Aw';

module.exports = {
  integration: 'zoom',
  signer: 'docs: developers.zoom.us/docs/api/webhooks (node:crypto)',
  secret,
  deliveries: [{
    name: 'meeting.started, Zoom\'s example',
    body: JSON.stringify({
      event: 'meeting.started',
      event_ts: 1626230691572,
      payload: {
        account_id: 'AAAAAABBBB',
        object: {
          id: '1234567890', uuid: '4444AAAiAAAAAiAiAiiAii==',
          host_id: 'x1yCzABCDEfg23HiJKl4mN', topic: 'My Meeting', type: 8,
          start_time: '2021-07-13T21:44:51Z', timezone: 'America/Los_Angeles',
          duration: 60,
        },
      },
    }),
    type: 'meeting.started',
    sign,
  }, {
    name: 'recording.completed',
    body: JSON.stringify({
      event: 'recording.completed',
      event_ts: 1626230691573,
      payload: {
        account_id: 'AAAAAABBBB',
        object: {
          id: 1234567890, uuid: '4444AAAiAAAAAiAiAiiAii==', host_id: 'x1yCzABCDEfg23HiJKl4mN',
          topic: 'My Personal Meeting Room', type: 4, start_time: '2021-07-13T21:44:51Z',
          duration: 60, total_size: 529758, recording_count: 1,
          recording_files: [{
            id: 'ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8', meeting_id: '098765ABCD',
            recording_start: '2021-03-23T22:14:57Z', recording_end: '2021-03-23T23:15:41Z',
            file_type: 'M4A', file_size: 246560, file_extension: 'M4A',
            recording_type: 'audio_only', status: 'completed',
          }],
        },
      },
    }),
    type: 'recording.completed',
    sign,
  }],
  handshakes: [{
    name: 'endpoint.url_validation',
    request: ({ key, now }) => {
      const body = JSON.stringify({ payload: { plainToken }, event_ts: 1654503849680, event: 'endpoint.url_validation' });
      return Object.assign({ method: 'POST', body }, sign({ key, body, now }));
    },
    body: (text) => {
      let j;
      try { j = JSON.parse(text); } catch (e) { return `not JSON: ${text}`; }
      const want = hmac(secret, plainToken);
      return j.plainToken === plainToken && j.encryptedToken === want ? null
        : `expected {plainToken: ${plainToken}, encryptedToken: ${want}}, got ${text}`;
    },
    content_type: 'application/json',
  }, {
    name: 'endpoint.url_validation with a wrong signature is refused',
    request: ({ now }) => {
      const body = JSON.stringify({ payload: { plainToken }, event_ts: 1654503849680, event: 'endpoint.url_validation' });
      return Object.assign({ method: 'POST', body }, sign({ key: 'not the secret', body, now }));
    },
    status: 401,
  }],
};
