// Postmark: no signature; the webhook's Basic auth credentials
// (postmarkapp.com/developer/webhooks/webhooks-overview, "Protecting
// your webhook") in Authorization, built here with Node's Buffer. The
// body is not signed, so a changed body is not a check here.
'use strict';

const sign = ({ key }) => ({
  headers: {
    'content-type': 'application/json',
    authorization: 'Basic ' + Buffer.from(key).toString('base64'),
  },
});

// Postmark's webhook examples (postmarkapp.com/developer/webhooks/
// delivery-webhook, open-tracking-webhook, bounce-webhook,
// inbound-webhook), abridged.
const msg = '883953f4-6105-42a2-a16a-77a8eac79483';
const delivery = {
  MessageID: msg, Recipient: 'john@example.com', DeliveredAt: '2019-11-05T16:33:54.9070259Z',
  Details: 'Test delivery webhook details', Tag: 'welcome-email', ServerID: 23,
  Metadata: { a_key: 'a_value', b_key: 'b_value' }, RecordType: 'Delivery', MessageStream: 'outbound',
};
const open = {
  RecordType: 'Open', MessageStream: 'outbound', FirstOpen: true,
  Client: { Name: 'Chrome 35.0.1916.153', Company: 'Google', Family: 'Chrome' },
  OS: { Name: 'OS X 10.7 Lion', Company: 'Apple Computer, Inc.', Family: 'OS X 10' },
  Platform: 'WebMail', ReadSeconds: 5, Geo: { CountryISOCode: 'RS', Country: 'Serbia', City: 'Novi Sad' },
  MessageID: msg, Metadata: { a_key: 'a_value' }, ReceivedAt: '2019-11-05T16:34:10.1234567Z',
  Tag: 'welcome-email', Recipient: 'john@example.com',
};
const open2 = Object.assign({}, open, { FirstOpen: false, ReceivedAt: '2019-11-06T09:02:41.7654321Z' });
const bounce = {
  RecordType: 'Bounce', MessageStream: 'outbound', ID: 4323372036854775807, Type: 'HardBounce',
  TypeCode: 1, Name: 'Hard bounce', Tag: 'Test', MessageID: msg, ServerID: 23,
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  Details: 'Test bounce details', Email: 'john@example.com', From: 'sender@example.com',
  BouncedAt: '2019-11-05T16:33:54.9070259Z', DumpAvailable: true, Inactive: true, CanActivate: true,
  Subject: 'Test subject',
};
const inbound = {
  FromName: 'Postmarkapp Support', MessageStream: 'inbound', From: 'support@postmarkapp.com',
  FromFull: { Email: 'support@postmarkapp.com', Name: 'Postmarkapp Support', MailboxHash: '' },
  To: '"Firstname Lastname" <yourhash+SampleHash@inbound.postmarkapp.com>',
  Subject: 'Test subject', MessageID: '73e6d360-66eb-11e1-8e72-a8904824019b',
  Date: 'Fri, 1 Aug 2014 16:45:32 -04:00', MailboxHash: 'SampleHash',
  TextBody: 'This is a test text body.', HtmlBody: '<html><body><p>This is a test html body.</p></body></html>',
  Attachments: [],
};

module.exports = {
  integration: 'postmark',
  signer: 'HTTP Basic per postmarkapp.com/developer/webhooks/webhooks-overview (node Buffer)',
  secret: 'hookpipe:s3cr3t-Postmark-pass',
  signature_headers: ['authorization'],
  deliveries: [
    { name: 'Delivery, Postmark\'s example', body: delivery, type: 'Delivery',
      delivery_id: `Delivery:${msg}:2019-11-05T16:33:54.9070259Z`, tamper: false, sign },
    { name: 'Open of the same message', body: open, type: 'Open',
      delivery_id: `Open:${msg}:2019-11-05T16:34:10.1234567Z`, tamper: false, sign },
    { name: 'a second Open of the same message', body: open2, type: 'Open',
      delivery_id: `Open:${msg}:2019-11-06T09:02:41.7654321Z`, tamper: false, sign },
    { name: 'Bounce, Postmark\'s example', body: bounce, type: 'Bounce',
      delivery_id: `Bounce:${msg}:2019-11-05T16:33:54.9070259Z`, tamper: false, sign },
    { name: 'inbound mail, Postmark\'s example', body: inbound, type: 'Inbound',
      delivery_id: '73e6d360-66eb-11e1-8e72-a8904824019b', tamper: false, sign },
    { name: 'Delivery retried: a duplicate', body: delivery, type: null,
      negatives: false, sign },
    { name: 'credentials that are not Basic', body: delivery, type: null, status: 401,
      sign: ({ key }) => ({ headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key } }) },
  ],
};
