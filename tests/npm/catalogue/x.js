// X (Twitter) Account Activity: x-twitter-webhooks-signature "sha256="
// and the base64 HMAC-SHA256 of the body under the consumer secret; the
// CRC GET answered {"response_token": "sha256=" + base64 HMAC of
// crc_token}; the rules of https://docs.x.com/x-api/webhooks/introduction
// (Challenge-Response Checks, Validating the signature header), with
// Node's crypto; the example activities of the Account Activity API.
'use strict';
const crypto = require('crypto');

const hmac64 = (key, s) => crypto.createHmac('sha256', key).update(s).digest('base64');
const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-twitter-webhooks-signature': 'sha256=' + hmac64(key, body),
  },
});

const secret = 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw';
const crcToken = 'crc-token-5c9e1f2a8b7d4e3f';

const user = {
  id: 2244994945, id_str: '2244994945', name: 'Developer', screen_name: 'XDevelopers',
  location: 'Internet', url: 'https://developer.x.com', protected: false,
  followers_count: 570000, friends_count: 1800, created_at: 'Sat Dec 14 04:35:55 +0000 2013',
};

module.exports = {
  integration: 'x',
  signer: 'docs: docs.x.com/x-api/webhooks (node:crypto)',
  secret,
  deliveries: [{
    name: 'favorite_events, the Account Activity example',
    body: JSON.stringify({
      for_user_id: '2244994945',
      favorite_events: [{
        id: 'a7ba59eab0bfcba386f7acedac279542',
        created_at: 'Mon Mar 26 16:33:26 +0000 2018',
        timestamp_ms: 1522082006140,
        favorited_status: {
          created_at: 'Mon Mar 26 16:32:52 +0000 2018', id: 978310826234294272,
          id_str: '978310826234294272', text: 'A post to like', user,
        },
        user,
      }],
    }),
    type: 'favorite_events',
    sign,
  }, {
    name: 'follow_events',
    body: JSON.stringify({
      for_user_id: '2244994945',
      follow_events: [{
        type: 'follow', created_timestamp: '1517588749178',
        target: user,
        source: { id: '3216234525', name: 'Someone', screen_name: 'someone', protected: false },
      }],
    }),
    type: 'follow_events',
    sign,
  }],
  handshakes: [{
    name: 'CRC',
    request: () => ({ method: 'GET', query: `crc_token=${crcToken}` }),
    body: (text) => {
      const want = 'sha256=' + hmac64(secret, crcToken);
      try {
        return JSON.parse(text).response_token === want ? null : `expected ${want}, got ${text}`;
      } catch (e) { return `not JSON: ${text}`; }
    },
    content_type: 'application/json',
  }],
};
