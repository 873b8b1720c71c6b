// Resend: Svix (Standard Webhooks under svix-id, svix-timestamp and
// svix-signature), signed by the svix npm package's Webhook.sign, the
// library Resend's documentation verifies with; the email.delivered
// and email.bounced examples of Resend's event reference.
'use strict';
const { Webhook } = require('svix');

const sign = (id) => ({ key, body, now }) => ({
  headers: {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(now),
    'svix-signature': new Webhook(key).sign(id, new Date(now * 1000), body),
  },
});

const email = {
  created_at: '2024-11-22T23:41:11.894719+00:00',
  email_id: '56761188-7520-42d8-8898-ff6fc54ce618',
  from: 'Acme <onboarding@resend.dev>',
  to: ['delivered@resend.dev'],
  subject: 'Sending this example',
};

module.exports = {
  integration: 'resend',
  signer: 'svix@1 Webhook.sign',
  secret: 'whsec_' + Buffer.from('catalogue secret for resend').toString('base64'),
  deliveries: [{
    name: 'email.delivered, Resend\'s example',
    body: JSON.stringify({ type: 'email.delivered', created_at: '2024-11-22T23:41:12.126Z', data: email }),
    type: 'email.delivered',
    delivery_id: 'msg_2pQGh2Tn6mJq8R0V3Xb1Zc9Kd4E',
    sign: sign('msg_2pQGh2Tn6mJq8R0V3Xb1Zc9Kd4E'),
  }, {
    name: 'email.bounced, Resend\'s example',
    body: JSON.stringify({
      type: 'email.bounced', created_at: '2024-11-22T23:41:12.126Z',
      data: Object.assign({}, email, {
        to: ['bounced@resend.dev'],
        bounce: {
          message: 'The recipient\'s email provider sent a hard bounce message, but didn\'t specify the reason for the hard bounce.',
          subType: 'Suppressed', type: 'Permanent',
        },
      }),
    }),
    type: 'email.bounced',
    delivery_id: 'msg_2pQGh2Tn6mJq8R0V3Xb1Zc9Kd4F',
    sign: sign('msg_2pQGh2Tn6mJq8R0V3Xb1Zc9Kd4F'),
  }],
};
