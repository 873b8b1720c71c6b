// OpenAI: Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature), signed by the standardwebhooks npm package.
'use strict';
const fs = require('fs');
const path = require('path');
const { Webhook } = require('standardwebhooks');

const samples = path.join(process.env.HOOKPIPE_SHARED || path.join(__dirname, '../../../../shared'), 'samples');

const sign = (id) => ({ key, body, now }) => ({
  headers: {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(now),
    'webhook-signature': new Webhook(key).sign(id, new Date(now * 1000), body),
  },
});

// Every event of the definition, each with OpenAI's example of it. The
// two SIP call examples end a list with a comma, as published: OpenAI
// sends JSON, so the comma is taken out.
const events = require('../../../integrations/openai.json').events.map((e) => e.name);
const deliveries = events.map((t, i) => {
  const body = fs.readFileSync(path.join(samples, `openai-${t}.json`), 'utf8')
    .replace(/,(\s*[\]}])/g, '$1');
  return {
    name: `${t}, OpenAI's example`, body, type: t,
    delivery_id: `msg_catalogue${i}`, sign: sign(`msg_catalogue${i}`),
  };
});

module.exports = {
  integration: 'openai',
  signer: 'standardwebhooks npm Webhook.sign',
  secret: 'whsec_' + Buffer.from('catalogue secret for openai').toString('base64'),
  deliveries,
};
