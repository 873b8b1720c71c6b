// Gmail: Pub/Sub push with an OIDC token, RS256, signed with jose the
// way Pub/Sub signs it (cloud.google.com/pubsub/docs/authenticate-push-
// subscriptions: iss accounts.google.com, aud the push endpoint, email
// and email_verified of the subscription's service account, a kid of
// Google's JWKS). The keys cannot be Google's: for the test, the
// definition is overridden in $HOOKPIPE_HOME/integrations with a
// jwks_file that holds the test key instead of Google's jwks_url.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const jose = require('jose');

const SA = 'gmail-push@hookpipe-test.iam.gserviceaccount.com';
const home = () => process.env.HOOKPIPE_HOME;
const override = () => path.join(home(), 'integrations', 'gmail.json');
const jwksFile = () => path.join(home(), 'integrations', 'gmail-catalogue.jwks');
let good;

function token({ key, url, now, email = SA, aud = url }) {
  return new jose.SignJWT({ email, email_verified: true, azp: '1234567890', sub: '1234567890' })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer('https://accounts.google.com')
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(key.priv);
}

// Gmail's notification, as its push guide shows it, in Pub/Sub's push
// envelope (cloud.google.com/pubsub/docs/push#receive_push).
const note = { emailAddress: 'user@example.com', historyId: '9876543210' };
const envelope = (id) => ({
  message: {
    attributes: {},
    data: Buffer.from(JSON.stringify(note)).toString('base64'),
    messageId: id, message_id: id,
    publishTime: '2024-05-14T17:05:46.383Z', publish_time: '2024-05-14T17:05:46.383Z',
  },
  subscription: 'projects/hookpipe-test/subscriptions/gmail-push',
});

const sign = async ({ key, url, now }) => ({
  headers: {
    'content-type': 'application/json',
    authorization: 'Bearer ' + await token({ key, url, now }),
  },
});

module.exports = {
  integration: 'gmail',
  signer: 'jose SignJWT RS256 (Pub/Sub push OIDC claims), verified by a jwks_file override',
  params: { 'claim.email': SA },
  async keys() {
    const mk = async (kid) => {
      const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048 });
      const jwk = await jose.exportJWK(publicKey);
      return { kid, priv: privateKey, jwk: Object.assign(jwk, { kid, alg: 'RS256', use: 'sig' }) };
    };
    good = await mk('catalogue-a');
    // Another key under a kid the set does not have, and one under the
    // same kid that is not the published key.
    const other = await mk('catalogue-a');
    return { secret: null, sign: good, wrong: other };
  },
  async setup() {
    const def = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../integrations/gmail.json'), 'utf8'));
    delete def.params.jwks_url;
    def.params.jwks_file = path.basename(jwksFile());
    fs.mkdirSync(path.dirname(override()), { recursive: true });
    fs.writeFileSync(jwksFile(), JSON.stringify({ keys: [good.jwk] }));
    fs.writeFileSync(override(), JSON.stringify(def, null, 2));
    // The stages read the directory every second; HUP says now.
    try { execFileSync('hookpipectl', ['reload'], { stdio: 'ignore' }); } catch (e) { /* the poll will */ }
    await new Promise((r) => setTimeout(r, 1500));
  },
  async teardown() {
    fs.rmSync(override(), { force: true });
    fs.rmSync(jwksFile(), { force: true });
  },
  deliveries: [
    { name: 'a mailbox change, Gmail\'s notification in Pub/Sub\'s envelope',
      body: envelope('2070443601311540'), type: 'notification',
      delivery_id: '2070443601311540', sign, signature_headers: ['authorization'],
      // The token proves who pushed, not what: Pub/Sub does not sign
      // the body (TLS carries it), so a changed body is not refused.
      tamper: false,
      check: (e) => {
        const d = JSON.parse(Buffer.from(e.payload.message.data, 'base64').toString());
        return d.historyId === note.historyId ? null : `stored ${JSON.stringify(e.payload)}`;
      } },
    // Pub/Sub redelivers an unacknowledged message with its messageId.
    { name: 'the same message again (a redelivery)', body: envelope('2070443601311540'),
      type: null, sign, negatives: false },
    { name: 'a token of another service account',
      body: envelope('2070443601311541'), type: null, status: 401,
      sign: async ({ key, url, now }) => ({
        headers: { 'content-type': 'application/json',
          authorization: 'Bearer ' + await token({ key, url, now, email: 'intruder@evil-project.iam.gserviceaccount.com' }) },
      }) },
    { name: 'a token for another audience',
      body: envelope('2070443601311542'), type: null, status: 401,
      sign: async ({ key, now }) => ({
        headers: { 'content-type': 'application/json',
          authorization: 'Bearer ' + await token({ key, url: 'x', now, aud: 'https://elsewhere.example/push' }) },
      }) },
  ],
};
