// Discord Webhook Events: Ed25519 over X-Signature-Timestamp + body,
// signed with Node's crypto and checked by discord-interactions'
// verifyKey (Discord's own library verifies; it does not sign). The
// PING (type 0) is answered 204 with no body.
'use strict';
const crypto = require('crypto');
const { verifyKey } = require('discord-interactions');

let pubHex;

async function sign({ key, body, now }) {
  const ts = String(now);
  const sig = crypto.sign(null, Buffer.from(ts + body), key).toString('hex');
  // Only the right key must pass Discord's check.
  if (key === module.exports._sign && !(await verifyKey(body, sig, ts, pubHex)))
    throw new Error('discord-interactions verifyKey refused the signature');
  return {
    headers: {
      'content-type': 'application/json',
      'x-signature-ed25519': sig,
      'x-signature-timestamp': ts,
    },
  };
}

// Discord's examples (discord.com/developers/docs/events/webhook-events),
// the "// user data" placeholders filled with a user object.
const user = { id: '111178765189277770', username: 'nelly', global_name: 'Nelly', avatar: null, discriminator: '0' };
const authorized = {
  version: 1, application_id: '1234560123453231555', type: 1,
  event: {
    type: 'APPLICATION_AUTHORIZED', timestamp: '2024-10-18T14:42:53.064834',
    data: { integration_type: 1, scopes: ['applications.commands'], user },
  },
};
const entitlement = {
  version: 1, application_id: '1234560123453231555', type: 1,
  event: {
    type: 'ENTITLEMENT_CREATE', timestamp: '2024-10-18T18:41:21.109604',
    data: {
      application_id: '1234560123453231555', consumed: false, deleted: false,
      gift_code_flags: 0, id: '1234505980407808808', promotion_id: null,
      sku_id: '123489045643835123', type: 4, user_id: '111178765189277770',
    },
  },
};

module.exports = {
  integration: 'discord',
  signer: 'node:crypto Ed25519, checked by discord-interactions verifyKey',
  async keys() {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    pubHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
    module.exports._sign = privateKey;
    return { secret: pubHex, sign: privateKey, wrong: other };
  },
  deliveries: [
    { name: 'APPLICATION_AUTHORIZED, Discord\'s example', body: authorized,
      type: 'APPLICATION_AUTHORIZED', sign,
      check: (e) => e.payload && e.payload.event && e.payload.event.data.scopes[0] === 'applications.commands'
        ? null : `stored payload: ${JSON.stringify(e.payload)}` },
    { name: 'ENTITLEMENT_CREATE, Discord\'s example', body: entitlement,
      type: 'ENTITLEMENT_CREATE', sign },
    // Discord retries an event it got no answer for: the same body.
    { name: 'ENTITLEMENT_CREATE again (a retry)', body: entitlement,
      type: null, sign, negatives: false },
  ],
  handshakes: [
    { name: 'PING (type 0), signed',
      request: async ({ key, now }) => {
        const body = JSON.stringify({ version: 1, application_id: '1234560123453231555', type: 0 });
        return Object.assign({ method: 'POST', body }, await sign({ key, body, now }));
      },
      status: 204, body: '' },
    { name: 'PING with a wrong signature (Discord checks that it is refused)',
      request: async ({ now }) => {
        const body = JSON.stringify({ version: 1, application_id: '1234560123453231555', type: 0 });
        const r = await sign({ key: crypto.generateKeyPairSync('ed25519').privateKey, body, now });
        return Object.assign({ method: 'POST', body }, r);
      },
      status: 401 },
  ],
};
