// Lark (Feishu): with an Encrypt Key, events come as {"encrypt": base64
// (IV + AES-256-CBC under SHA-256 of the key)} and X-Lark-Signature is
// the hex SHA-256 of timestamp + nonce + key + body (open.larksuite.com
// .../event-subscription-configure-/encrypt-key-encryption-configuration-case),
// both made here with Node's crypto.
'use strict';
const crypto = require('crypto');

const TOKEN = 'v7Nf5rQeYb0nW2cKpL9xZt';

function encrypt(key, obj) {
  const iv = crypto.randomBytes(16);
  const c = crypto.createCipheriv('aes-256-cbc', crypto.createHash('sha256').update(key).digest(), iv);
  const data = Buffer.concat([iv, c.update(JSON.stringify(obj)), c.final()]);
  return JSON.stringify({ encrypt: data.toString('base64') });
}

function signed(key, body, now) {
  const nonce = String(crypto.randomInt(1e9, 2e9));
  return {
    'content-type': 'application/json',
    'x-lark-request-timestamp': String(now),
    'x-lark-request-nonce': nonce,
    'x-lark-signature': crypto.createHash('sha256').update(String(now) + nonce + key + body).digest('hex'),
  };
}

// Lark's im.message.receive_v1 example (schema 2.0).
const receive = {
  schema: '2.0',
  header: {
    event_id: '5e3702a84e847582be8db7fb73283c02', event_type: 'im.message.receive_v1',
    create_time: '1608725989000', token: TOKEN, app_id: 'cli_9f5343c580712544', tenant_key: '2ca1d211f64f6438',
  },
  event: {
    sender: { sender_id: { union_id: 'on_8ed6aa67826108097d9ee143816345', user_id: 'e33ggbyz', open_id: 'ou_84aad35d084aa403a838cf73ee18467' }, sender_type: 'user', tenant_key: '736588c9260f175e' },
    message: {
      message_id: 'om_5ce6d572455d361153b7cb51da133945', root_id: '', parent_id: '',
      create_time: '1609073151345', chat_id: 'oc_5ce6d572455d361153b7xx51da133945',
      chat_type: 'group', message_type: 'text', content: '{"text":"@_user_1 hello"}',
      mentions: [{ key: '@_user_1', id: { union_id: 'on_8ed6aa67826108097d9ee143816345', user_id: 'e33ggbyz', open_id: 'ou_84aad35d084aa403a838cf73ee18467' }, name: 'Tom', tenant_key: '736588c9260f175e' }],
    },
  },
};
// A schema 1.0 event (uuid, event.type).
const v1 = {
  uuid: '41b5f371157e3d5341b38b20396e77e3', token: TOKEN, ts: '1608725989.000000', type: 'event_callback',
  event: { type: 'approval_instance', app_id: 'cli_9f5343c580712544', tenant_key: '2ca1d211f64f6438', instance_code: '81D31358-93AF-92D6-7425-01A5D67C4E71', status: 'APPROVED' },
};

const deliver = (ev) => ({ key, now }) => {
  const body = encrypt(key, ev);
  return { body, headers: signed(key, body, now) };
};

module.exports = {
  integration: 'lark',
  signer: 'docs: open.larksuite.com encrypt-key-encryption-configuration-case (node:crypto SHA-256, AES-256-CBC)',
  secret: 'qJ8rNmYq5Wc2xT0pLf3s',
  params: { verification_token: TOKEN },
  deliveries: [
    { name: 'im.message.receive_v1, Lark\'s example, encrypted', body: receive,
      type: 'im.message.receive_v1', delivery_id: receive.header.event_id,
      sign: deliver(receive),
      check: (e) => e.payload.event && e.payload.event.message.message_type === 'text'
        ? null : `stored (not decrypted?): ${JSON.stringify(e.payload).slice(0, 200)}` },
    { name: 'a schema 1.0 event, encrypted', body: v1, type: 'approval_instance',
      delivery_id: v1.uuid, sign: deliver(v1) },
  ],
  handshakes: [
    { name: 'url_verification, plain',
      request: () => ({ method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ challenge: 'ajls384kdjx98XX', token: TOKEN, type: 'url_verification' }) }),
      body: (t) => { try { return JSON.parse(t).challenge === 'ajls384kdjx98XX' ? null : t; } catch (e) { return t; } },
      content_type: 'application/json' },
    { name: 'url_verification, encrypted under the Encrypt Key',
      request: ({ key }) => ({ method: 'POST', headers: { 'content-type': 'application/json' },
        body: encrypt(key, { challenge: 'bzls384kdjx98YY', token: TOKEN, type: 'url_verification' }) }),
      body: (t) => { try { return JSON.parse(t).challenge === 'bzls384kdjx98YY' ? null : t; } catch (e) { return t; } } },
    { name: 'url_verification with another Verification Token',
      request: () => ({ method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ challenge: 'ajls384kdjx98XX', token: 'not-the-token', type: 'url_verification' }) }),
      status: 403 },
  ],
};
