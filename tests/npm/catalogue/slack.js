// Slack: X-Slack-Signature v0=HMAC-SHA256("v0:" ts ":" body), the rule of
// https://api.slack.com/authentication/verifying-requests-from-slack,
// with Node's crypto; the url_verification handshake.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body, now }) => ({
  headers: {
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(now),
    'x-slack-signature': 'v0=' + crypto.createHmac('sha256', key)
      .update(`v0:${now}:${body}`).digest('hex'),
  },
});

module.exports = {
  integration: 'slack',
  signer: 'docs: api.slack.com verifying-requests-from-slack (node:crypto)',
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  deliveries: [{
    name: 'event_callback (app_mention)',
    body: {
      token: 'x', team_id: 'T061EG9R6', api_app_id: 'A0PNCHHK2',
      event: { type: 'app_mention', user: 'U061F7AUR', text: 'hi', ts: '1515449522.000016', channel: 'C0LAN2Q65' },
      type: 'event_callback', event_id: 'Ev0PV52K25', event_time: 1515449522,
    },
    type: 'event_callback',
    delivery_id: 'Ev0PV52K25',
    sign,
  }],
  handshakes: [{
    name: 'url_verification',
    request: ({ key, now }) => {
      const body = JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
      return Object.assign({ method: 'POST', body }, sign({ key, body, now }));
    },
    body: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
  }],
};
