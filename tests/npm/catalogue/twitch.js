// Twitch EventSub: Twitch-Eventsub-Message-Signature "sha256=" and the
// hex HMAC-SHA256 of message id, timestamp and body, the rule of
// https://dev.twitch.tv/docs/eventsub/handling-webhook-events/
// (Verifying the event message), with Node's crypto; the examples of
// that page; the webhook_callback_verification handshake.
'use strict';
const crypto = require('crypto');

const sign = (type, id) => ({ key, body, now }) => {
  // Twitch writes nanoseconds.
  const ts = new Date(now * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1634234Z');
  return {
    headers: {
      'content-type': 'application/json',
      'twitch-eventsub-message-id': id,
      'twitch-eventsub-message-retry': '0',
      'twitch-eventsub-message-type': type,
      'twitch-eventsub-message-timestamp': ts,
      'twitch-eventsub-subscription-type': 'channel.follow',
      'twitch-eventsub-subscription-version': '2',
      'twitch-eventsub-message-signature': 'sha256=' + crypto
        .createHmac('sha256', key).update(id + ts + body).digest('hex'),
    },
  };
};
const proof = ['twitch-eventsub-message-id', 'twitch-eventsub-message-timestamp',
  'twitch-eventsub-message-signature'];

const subscription = (status) => ({
  id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4', type: 'channel.follow',
  version: '2', status, cost: 0,
  condition: { broadcaster_user_id: '1337', moderator_user_id: '1337' },
  transport: { method: 'webhook', callback: 'https://example.com/webhooks/callback' },
  created_at: '2019-11-16T10:11:12.634234626Z',
});
const challenge = 'pogchamp-kappa-360noscope-vohiyo';
const verification = JSON.stringify({ challenge,
  subscription: subscription('webhook_callback_verification_pending') });

module.exports = {
  integration: 'twitch',
  signer: 'docs: dev.twitch.tv/docs/eventsub/handling-webhook-events (node:crypto)',
  secret: 's3cre7-for-the-eventsub-subscription',
  deliveries: [{
    name: 'notification channel.follow, Twitch\'s example',
    body: JSON.stringify({
      subscription: subscription('enabled'),
      event: {
        user_id: '1234', user_login: 'cool_user', user_name: 'Cool_User',
        broadcaster_user_id: '1337', broadcaster_user_login: 'cooler_user',
        broadcaster_user_name: 'Cooler_User', followed_at: '2020-07-15T18:16:11.17106713Z',
      },
    }),
    type: 'channel.follow',
    delivery_id: 'befa7b53-d79d-478f-86b9-120f112b044e',
    sign: sign('notification', 'befa7b53-d79d-478f-86b9-120f112b044e'),
    signature_headers: proof,
  }, {
    name: 'revocation of channel.follow: a type of its own',
    body: JSON.stringify({ subscription: subscription('authorization_revoked') }),
    type: 'revocation.channel.follow',
    delivery_id: '84c1e79a-2a4b-4c13-ba0b-4312293e9308',
    sign: sign('revocation', '84c1e79a-2a4b-4c13-ba0b-4312293e9308'),
    signature_headers: proof,
  }],
  handshakes: [{
    name: 'webhook_callback_verification',
    request: ({ key, now }) => Object.assign({ method: 'POST', body: verification },
      sign('webhook_callback_verification', 'e76c6bd4-55c9-4987-8304-da1588d8988b')({ key, body: verification, now })),
    body: challenge,
  }, {
    name: 'webhook_callback_verification signed with another secret is refused',
    request: ({ now }) => Object.assign({ method: 'POST', body: verification },
      sign('webhook_callback_verification', 'e76c6bd4-55c9-4987-8304-da1588d8988c')({ key: 'another secret', body: verification, now })),
    status: 401,
  }],
};
