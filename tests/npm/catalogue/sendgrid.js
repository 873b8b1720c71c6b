// SendGrid Event Webhook: ECDSA P-256 (SHA-256, DER, base64) over the
// timestamp header followed by the body, verified with the public key
// SendGrid shows (base64 DER). Signed with Node's crypto with a key pair
// made here, and every signature checked with @sendgrid/eventwebhook's
// verifySignature (SendGrid's library verifies; it does not sign).
'use strict';
const crypto = require('crypto');
const { EventWebhook } = require('@sendgrid/eventwebhook');

const ew = new EventWebhook();
let pub, priv;

function sign({ key, body, now }) {
  const ts = String(now);
  const sig = crypto.sign('sha256', Buffer.from(ts + body), key).toString('base64');
  if (key === priv && !ew.verifySignature(ew.convertPublicKeyToECDSA(pub), body, sig, ts))
    throw new Error('@sendgrid/eventwebhook refuses the signature');
  return {
    headers: {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': sig,
      'x-twilio-email-event-webhook-timestamp': ts,
    },
  };
}

// SendGrid's event examples (twilio.com/docs/sendgrid/for-developers/
// tracking-events/event), as SendGrid posts them: an array, ending
// with CRLF (the signature covers it).
const batch = JSON.stringify([
  { email: 'example@test.com', timestamp: 1513299569, 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
    event: 'delivered', category: 'cat facts', sg_event_id: 'rbtnWrG1DVDGGGFHFyun0A==',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
    response: '250 OK' },
  { email: 'example@test.com', timestamp: 1513299569, event: 'open', sg_machine_open: false,
    category: 'cat facts', sg_event_id: 'FOTFFO0ecsBE-zxFXfs6WA==',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
    useragent: 'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
    ip: '255.255.255.255' },
]) + '\r\n';
const bounce = JSON.stringify([
  { email: 'example@test.com', timestamp: 1513299569, 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
    event: 'bounce', category: 'cat facts', sg_event_id: '6g4ZI7SA-xmRDv57GoPIPw==',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
    reason: '500 unknown recipient', status: '5.0.0', type: 'bounce' },
]) + '\r\n';

module.exports = {
  integration: 'sendgrid',
  signer: 'node:crypto ECDSA P-256, checked by @sendgrid/eventwebhook verifySignature',
  keys() {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    pub = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    priv = privateKey;
    const other = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    return { secret: pub, sign: privateKey, wrong: other };
  },
  deliveries: [
    { name: 'a batch (delivered, open), SendGrid\'s examples', body: batch,
      type: 'delivered', delivery_id: 'rbtnWrG1DVDGGGFHFyun0A==', sign,
      check: (e) => JSON.stringify(e).includes('FOTFFO0ecsBE-zxFXfs6WA==') ? null
        : 'the stored event lacks the second event of the batch' },
    { name: 'bounce, SendGrid\'s example', body: bounce,
      type: 'bounce', delivery_id: '6g4ZI7SA-xmRDv57GoPIPw==', sign },
    { name: 'the batch without its final CRLF (not what was signed)', type: null,
      status: 401, body: batch,
      sign: (a) => Object.assign(sign(a), { body: batch.trimEnd() }) },
  ],
};
