// Twilio: X-Twilio-Signature, HMAC-SHA1 base64 of the URL and the POST
// parameters sorted by name, signed by the twilio package's
// getExpectedTwilioSignature and checked by its validateRequest.
'use strict';
const twilio = require('twilio');

const form = (o) => new URLSearchParams(o).toString();
const sign = (params) => ({ key, url }) => {
  const sig = twilio.getExpectedTwilioSignature(key, url, params);
  if (key === module.exports.secret && !twilio.validateRequest(key, sig, url, params))
    throw new Error('twilio validateRequest refused its own signature');
  return { body: form(params), headers: {
    'content-type': 'application/x-www-form-urlencoded',
    'i-twilio-idempotency-token': 'a7b3c0e5-2f1d-4c6e-9b8a-0d1e2f3a4b5c',
    'x-twilio-signature': sig,
  } };
};

// The parameters of Twilio's messaging and voice webhook references.
const sms = {
  ToCountry: 'US', ToState: 'CA', SmsMessageSid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
  NumMedia: '0', ToCity: 'SAN FRANCISCO', FromZip: '94105', SmsSid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
  FromState: 'CA', SmsStatus: 'received', FromCity: 'SAN FRANCISCO', Body: 'Hello from Twilio',
  FromCountry: 'US', To: '+15557122661', ToZip: '94105', NumSegments: '1',
  MessageSid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', AccountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  From: '+15017122661', ApiVersion: '2010-04-01',
};
const delivered = {
  MessageSid: 'SM9f8e7d6c5b4a39281706f5e4d3c2b1a0', MessageStatus: 'delivered',
  SmsSid: 'SM9f8e7d6c5b4a39281706f5e4d3c2b1a0', SmsStatus: 'delivered',
  AccountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', From: '+15017122661', To: '+15558675310',
  ApiVersion: '2010-04-01',
};
const call = {
  CallSid: 'CA5a2b3c4d5e6f708192a3b4c5d6e7f809', AccountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  From: '+15017122661', To: '+15557122661', CallStatus: 'ringing', ApiVersion: '2010-04-01',
  Direction: 'inbound', CallerName: '', FromCity: 'SAN FRANCISCO', FromState: 'CA', FromCountry: 'US',
};

module.exports = {
  integration: 'twilio',
  signer: 'twilio getExpectedTwilioSignature, checked by validateRequest',
  secret: '12345678901234567890123456789012',
  signature_headers: ['x-twilio-signature'],
  deliveries: [
    { name: 'an incoming SMS', body: form(sms), sign: sign(sms),
      type: 'message.received', delivery_id: `${sms.MessageSid}.received`,
      check: (e) => e.payload.Body === sms.Body ? null : `stored ${JSON.stringify(e.payload)}` },
    { name: 'a status callback: delivered', body: form(delivered), sign: sign(delivered),
      type: 'message.delivered', delivery_id: `${delivered.MessageSid}.delivered` },
    { name: 'an incoming call', body: form(call), sign: sign(call),
      type: 'call.ringing', delivery_id: `${call.CallSid}.ringing` },
  ],
};
