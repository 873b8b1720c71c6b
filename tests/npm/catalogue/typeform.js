// Typeform: Typeform-Signature: sha256=base64(HMAC-SHA256(secret, body))
// (https://www.typeform.com/developers/webhooks/secure-your-webhooks/),
// with Node's crypto; the payload of the webhooks example response.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'typeform-signature': 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('base64'),
  },
});

module.exports = {
  integration: 'typeform',
  signer: 'docs: typeform.com/developers/webhooks/secure-your-webhooks (node:crypto)',
  secret: 'tf-secret-3b9f1c7d5e2a8f4b6c0d',
  deliveries: [{
    name: 'form_response',
    body: {
      event_id: 'LtWXD3crgy', event_type: 'form_response',
      form_response: {
        form_id: 'lT4Z3j', token: 'a3a12ec67a1365927098a606107fac15',
        submitted_at: '2018-01-18T18:17:02Z', landed_at: '2018-01-18T18:07:02Z',
        definition: { id: 'lT4Z3j', title: 'Webhooks example', fields: [{ id: 'DlXFaesGBpoF', type: 'long_text', title: 'What is your name?' }] },
        answers: [{ type: 'text', text: 'Lorem ipsum dolor', field: { id: 'DlXFaesGBpoF', type: 'long_text' } }],
      },
    },
    type: 'form_response',
    delivery_id: 'LtWXD3crgy',
    sign,
  }],
};
