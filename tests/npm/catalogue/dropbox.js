// Dropbox: X-Dropbox-Signature, the hex HMAC-SHA256 of the body under
// the app secret, the rule of
// https://www.dropbox.com/developers/reference/webhooks (Receiving
// notifications), with Node's crypto; that page's example notification;
// the GET challenge Dropbox makes to verify the URI.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-dropbox-signature': crypto.createHmac('sha256', key).update(body).digest('hex'),
  },
});

module.exports = {
  integration: 'dropbox',
  signer: 'docs: dropbox.com/developers/reference/webhooks (node:crypto)',
  secret: 'k3x9q2m7w1z8v5t0',
  deliveries: [{
    name: 'list_folder, Dropbox\'s example',
    body: JSON.stringify({
      list_folder: { accounts: ['dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc', 'dbid:AAAjnH0WRvVVkdNcYnHy2ZsokCkpvBp8Jno'] },
      delta: { users: [12345678, 23456789] },
    }),
    type: 'list_folder',
    sign,
  }],
  handshakes: [{
    name: 'GET challenge',
    request: () => ({ method: 'GET', query: 'challenge=tPKCMkbM0P2Bf8TyX6EV4iqfmWZ3kgUfPpp1Uf' }),
    body: 'tPKCMkbM0P2Bf8TyX6EV4iqfmWZ3kgUfPpp1Uf',
    content_type: 'text/plain',
  }],
};
