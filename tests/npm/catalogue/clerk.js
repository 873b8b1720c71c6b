// Clerk: Svix (Standard Webhooks under svix-id, svix-timestamp and
// svix-signature), signed by the svix npm package's Webhook.sign; the
// user.created example of Clerk's webhook documentation.
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

module.exports = {
  integration: 'clerk',
  signer: 'svix@1 Webhook.sign',
  secret: 'whsec_' + Buffer.from('catalogue secret for clerk').toString('base64'),
  deliveries: [{
    name: 'user.created, Clerk\'s example',
    body: JSON.stringify({
      data: {
        birthday: '', created_at: 1654012591514,
        email_addresses: [{
          email_address: 'example@example.org', id: 'idn_29w83yL7CwVlJXylYLxcslromF1',
          linked_to: [], object: 'email_address',
          verification: { status: 'verified', strategy: 'ticket' },
        }],
        external_accounts: [], external_id: '567772', first_name: 'Example', gender: '',
        id: 'user_29w83sxmDNGwOuEthce5gg56FcC', image_url: 'https://img.clerk.com/xxxxxx',
        last_name: 'Example', last_sign_in_at: 1654012591514, object: 'user',
        password_enabled: true, phone_numbers: [], primary_email_address_id: 'idn_29w83yL7CwVlJXylYLxcslromF1',
        primary_phone_number_id: null, primary_web3_wallet_id: null, private_metadata: {},
        profile_image_url: 'https://www.gravatar.com/avatar?d=mp', public_metadata: {},
        two_factor_enabled: false, unsafe_metadata: {}, updated_at: 1654012591835,
        username: null, web3_wallets: [],
      },
      event_attributes: { http_request: { client_ip: '0.0.0.0', user_agent: 'Mozilla/5.0' } },
      instance_id: 'ins_123',
      object: 'event',
      timestamp: 1654012591835,
      type: 'user.created',
    }),
    type: 'user.created',
    delivery_id: 'msg_2fHLYBdDyDNrCbDYJuV8wk3xbfK',
    sign: sign('msg_2fHLYBdDyDNrCbDYJuV8wk3xbfK'),
  }, {
    name: 'session.created',
    body: JSON.stringify({
      data: {
        abandon_at: 1657201086133, client_id: 'client_2BHbobuGN4NWZ1WiW6WkTknVb9c',
        created_at: 1654609086133, expire_at: 1655213886133, id: 'sess_2BHbqIzXsVOUCEN0sHlotCpWvqo',
        last_active_at: 1654609086133, object: 'session', status: 'active',
        updated_at: 1654609086149, user_id: 'user_29w83sxmDNGwOuEthce5gg56FcC',
      },
      instance_id: 'ins_123', object: 'event', timestamp: 1654609086149, type: 'session.created',
    }),
    type: 'session.created',
    delivery_id: 'msg_2fHLYBdDyDNrCbDYJuV8wk3xbfL',
    sign: sign('msg_2fHLYBdDyDNrCbDYJuV8wk3xbfL'),
  }],
};
