// Meta (WhatsApp, Instagram, Messenger): X-Hub-Signature-256 "sha256="
// and the hex HMAC-SHA256 of the body under the App Secret, the rule of
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started
// (Validate payloads), with Node's crypto; the example notifications of
// WhatsApp's Cloud API, Instagram's and Messenger's webhook references;
// the GET verification request with hub.verify_token.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-hub-signature-256': 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex'),
  },
});

const verifyToken = 'meatyhamhock';

module.exports = {
  integration: 'meta',
  signer: 'docs: developers.facebook.com/docs/graph-api/webhooks/getting-started (node:crypto)',
  secret: '1f0c7a2b9d8e4f6a5b3c2d1e0f9a8b7c',
  params: { verify_token: verifyToken },
  deliveries: [{
    name: 'WhatsApp text message, the Cloud API\'s example',
    body: JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{
        id: '102290129340398',
        changes: [{
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
            contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
            messages: [{
              from: '16505551234',
              id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
              timestamp: '1749416383', type: 'text', text: { body: 'Does it come in another color?' },
            }],
          },
          field: 'messages',
        }],
      }],
    }),
    type: 'whatsapp_business_account.messages',
    sign,
  }, {
    name: 'Instagram comment, the Instagram webhook example',
    body: JSON.stringify({
      object: 'instagram',
      entry: [{
        id: '17841405793187218', time: 1520383571,
        changes: [{
          field: 'comments',
          value: {
            from: { id: '232323232', username: 'test' },
            media: { id: '123123123', media_product_type: 'FEED' },
            id: '17865799348089039', text: 'This is an example.',
          },
        }],
      }],
    }),
    type: 'instagram.comments',
    sign,
  }, {
    name: 'Messenger message (entry[].messaging, no changes)',
    body: JSON.stringify({
      object: 'page',
      entry: [{
        id: '682498171943165', time: 1458692752478,
        messaging: [{
          sender: { id: '1254459154682919' }, recipient: { id: '682498171943165' },
          timestamp: 1458692752478,
          message: { mid: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P', text: 'hello, world!' },
        }],
      }],
    }),
    type: 'page.messaging',
    sign,
  }],
  handshakes: [{
    name: 'subscribe (GET, hub.verify_token)',
    request: () => ({ method: 'GET', query: `hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${verifyToken}` }),
    body: '1158201444',
  }, {
    name: 'subscribe with another verify token is refused',
    request: () => ({ method: 'GET', query: 'hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guessed' }),
    status: 403,
  }],
};
