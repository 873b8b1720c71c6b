// Google Drive push channels (changes.watch): the channel's token comes
// back in X-Goog-Channel-Token, compared as it is; the first message of
// a channel is "sync". The headers and the empty body are those of
// developers.google.com/workspace/drive/api/guides/push.
'use strict';

const CHANNEL = '01234567-89ab-cdef-0123456789ab';
const headers = ({ key, state, n }) => ({
  'x-goog-channel-id': CHANNEL,
  'x-goog-channel-token': key,
  'x-goog-channel-expiration': 'Wed, 15 May 2024 17:05:46 GMT',
  'x-goog-resource-id': 'ret08u3rv24htgh289g',
  'x-goog-resource-uri': 'https://www.googleapis.com/drive/v3/changes?alt=json&pageToken=4337807',
  'x-goog-resource-state': state,
  'x-goog-message-number': String(n),
});

module.exports = {
  integration: 'google_drive',
  signer: 'docs: developers.google.com/workspace/drive/api/guides/push (the channel token)',
  secret: '9d3c0f7e1b2a4c5d8e6f7a8b9c0d1e2f',
  deliveries: [
    { name: 'change (changes.watch)', body: '', type: 'change',
      delivery_id: `${CHANNEL}.2`, tamper: false,
      signature_headers: ['x-goog-channel-token'],
      sign: ({ key }) => ({ headers: headers({ key, state: 'change', n: 2 }) }) },
    { name: 'update (files.watch), with X-Goog-Changed', body: '', type: 'update',
      delivery_id: `${CHANNEL}.3`, tamper: false,
      signature_headers: ['x-goog-channel-token'],
      sign: ({ key }) => ({ headers: Object.assign(headers({ key, state: 'update', n: 3 }),
        { 'x-goog-changed': 'content,properties' }) }) },
  ],
  handshakes: [
    { name: 'sync, with the channel token',
      request: ({ key }) => ({ method: 'POST', body: '', headers: headers({ key, state: 'sync', n: 1 }) }),
      status: 200, body: '' },
    { name: 'sync with another token',
      request: () => ({ method: 'POST', body: '', headers: headers({ key: 'not-the-token', state: 'sync', n: 1 }) }),
      status: 403 },
  ],
};
