#!/usr/bin/env node
// Writes tests/vectors/schemes.json: deliveries signed the way each kind
// of provider signs them, by the providers' own libraries where they
// publish one (twilio, @sendgrid/eventwebhook's starkbank-ecdsa,
// discord-interactions, jsonwebtoken, jose) and by Node's crypto
// otherwise. Every signature made here is first checked by the
// provider's own verifier where there is one. tests/unit/test_schemes.c
// replays them through the verifier.
//
//   cd tests/npm && npm ci && node gen-vectors.js
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const twilio = require('twilio');
const discord = require('discord-interactions');
const { EventWebhook } = require('@sendgrid/eventwebhook');
const ecdsa = require('starkbank-ecdsa');
const ecdsaCurve = require('starkbank-ecdsa/ellipticcurve/curve');
const jsonwebtoken = require('jsonwebtoken');
const jose = require('jose');

const NOW = 1700000000;
const BASE = 'https://hooks.example.com';
const PATH = '/triggers/plugin/0b5c3a52-8f0e-4f4c-9d1e-6a4a9d2b7c11';

const cases = [];

function req(o) {
  const query = o.query || '';
  return {
    method: o.method || 'POST',
    path: PATH,
    query,
    url: BASE + PATH + (query ? '?' + query : ''),
    headers: o.headers || {},
    body: o.body,
  };
}

function add(c) {
  if (!c.expect) c.expect = 'ok';
  cases.push(c);
}

function assert(cond, what) {
  if (!cond) throw new Error('provider library refused its own vector: ' + what);
}

const hmac = (alg, key, data) => crypto.createHmac(alg, key).update(data).digest();
const pubPemOneLine = (k) => k.export({ type: 'spki', format: 'pem' }).replace(/\n/g, '');
const pubDerB64 = (k) => k.export({ type: 'spki', format: 'der' }).toString('base64');

async function main() {
  // --- hmac ----------------------------------------------------------
  {
    const secret = 'whsec_stripe_like_0123456789';
    const body = '{"id":"evt_1","type":"invoice.paid"}';
    const t = String(NOW - 5);
    const sig = hmac('sha256', secret, t + '.' + body).toString('hex');
    add({
      name: 'kv list t=,v1= (Stripe, Calendly, Mux): the second v1 matches',
      source: 'node:crypto HMAC-SHA256 of t.body (Stripe\'s documented scheme)',
      definition: { scheme: 'hmac', params: { signature: 'header:Acme-Signature',
        format: 'kv', separator: ',', kv_signature: 'v1', kv_timestamp: 't',
        signed: '{timestamp}.{body}' } },
      secrets: [secret], wrong_secret: secret + 'x',
      request: req({ body, headers: { 'acme-signature': `t=${t},v1=${'0'.repeat(64)},v1=${sig},v0=abc` } }),
    });
    add({
      name: 'kv list: timestamp outside the tolerance',
      source: 'node:crypto',
      definition: cases[cases.length - 1].definition,
      secrets: [secret],
      request: req({ body, headers: { 'acme-signature': `t=${NOW - 400},v1=${hmac('sha256', secret, (NOW - 400) + '.' + body).toString('hex')}` } }),
      expect: 'timestamp', why: 'outside the tolerance',
    });
    add({
      name: 'kv list: no v1 entry',
      source: 'node:crypto',
      definition: cases[cases.length - 1].definition,
      secrets: [secret],
      request: req({ body, headers: { 'acme-signature': `t=${t},v0=${sig}` } }),
      expect: 'missing', why: 'Acme-Signature has no v1= signature',
    });
  }
  {
    const secret = 'pdl_ntfset_01h0000000000000000000000_abcdefghijklmnopqrstuvwxyz';
    const body = '{"event_id":"evt_01","event_type":"subscription.created"}';
    const ts = String(NOW);
    const h1 = hmac('sha256', secret, ts + ':' + body).toString('hex');
    add({
      name: 'kv list ts=;h1= separated by ; (Paddle)',
      source: 'node:crypto HMAC-SHA256 of ts:body (Paddle Billing\'s documented scheme)',
      definition: { scheme: 'hmac', params: { signature: 'header:Paddle-Signature',
        format: 'kv', separator: ';', kv_signature: 'h1', kv_timestamp: 'ts',
        signed: '{timestamp}:{body}' } },
      secrets: [secret], wrong_secret: 'pdl_other',
      request: req({ body, headers: { 'paddle-signature': `ts=${ts};h1=${h1}` } }),
    });
  }
  {
    const token = '12345abcdef67890twilio';
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030',
      Digits: '1234', From: '+12349013030', To: '+18005551212',
      Body: 'hello world & more = fun', AccountSid: 'AC0001',
      MediaUrl: ['https://b.example/2', 'https://a.example/1', 'https://a.example/1'] };
    const entries = [];
    for (const [k, v] of Object.entries(params))
      for (const x of [].concat(v)) entries.push([k, x]);
    const query = 'tenant=acme&x=1';
    const r = req({ query, body: new URLSearchParams(entries).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const sig = twilio.getExpectedTwilioSignature(token, r.url, params);
    assert(twilio.validateRequest(token, sig, r.url, params), 'twilio');
    r.headers['x-twilio-signature'] = sig;
    add({
      name: 'Twilio: {url}{form:sorted}, HMAC-SHA1 base64',
      source: 'twilio npm getExpectedTwilioSignature, checked by validateRequest',
      definition: { scheme: 'hmac', params: { header: 'X-Twilio-Signature',
        algorithm: 'sha1', encoding: 'base64', signed: '{url}{form:sorted}' } },
      secrets: [token], wrong_secret: token + 'x',
      request: r,
    });
    const r2 = JSON.parse(JSON.stringify(r));
    r2.url = BASE + PATH;
    r2.query = '';
    add({
      name: 'Twilio: signed for another URL',
      source: 'twilio npm getExpectedTwilioSignature',
      definition: cases[cases.length - 1].definition,
      secrets: [token], request: r2,
      expect: 'signature', why: 'X-Twilio-Signature does not match',
    });
  }
  {
    const key = 'key-mailgun-signing-0123456789';
    const timestamp = String(NOW - 10);
    const tok = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
    const signature = hmac('sha256', key, timestamp + tok).toString('hex');
    const body = JSON.stringify({ signature: { timestamp, token: tok, signature },
      'event-data': { event: 'delivered', id: 'CPgfbmQMTCKtHW6uIWtuVe' } });
    add({
      name: 'Mailgun: signature, timestamp and token in the body',
      source: 'node:crypto HMAC-SHA256 of timestamp+token (Mailgun\'s documented scheme)',
      definition: { scheme: 'hmac', params: { signature: 'body:/signature/signature',
        timestamp: 'body:/signature/timestamp',
        signed: '{timestamp}{body:/signature/token}' } },
      secrets: [key], wrong_secret: key + 'x', tamper: false,
      request: req({ body, headers: { 'content-type': 'application/json' } }),
    });
  }
  {
    const key = 'sq0wbs-square-signature-key';
    const body = '{"merchant_id":"6SSW7HV8K2ST5","type":"payment.created","event_id":"e1"}';
    const r = req({ body });
    r.headers['x-square-hmacsha256-signature'] = hmac('sha256', key, r.url + body).toString('base64');
    add({
      name: 'Square: {url}{body}, base64',
      source: 'node:crypto HMAC-SHA256 of notification URL + body (Square\'s documented scheme)',
      definition: { scheme: 'hmac', params: { header: 'x-square-hmacsha256-signature',
        encoding: 'base64', signed: '{url}{body}' } },
      secrets: [key], wrong_secret: key + 'x', request: r,
    });
  }
  {
    const secret = 'hubspot-client-secret-123';
    const body = '[{"eventId":1,"subscriptionType":"contact.creation"}]';
    const ts = String(NOW * 1000 - 1234);
    const r = req({ body });
    r.headers['x-hubspot-request-timestamp'] = ts;
    r.headers['x-hubspot-signature-v3'] = hmac('sha256', secret, 'POST' + r.url + body + ts).toString('base64');
    add({
      name: 'HubSpot v3: {method}{url}{body}{timestamp}, timestamp in ms',
      source: 'node:crypto HMAC-SHA256 (HubSpot\'s documented v3 scheme)',
      definition: { scheme: 'hmac', params: { header: 'X-HubSpot-Signature-v3',
        encoding: 'base64', timestamp: 'header:X-HubSpot-Request-Timestamp',
        timestamp_format: 'unix_ms', signed: '{method}{url}{body}{timestamp}' } },
      secrets: [secret], wrong_secret: secret + 'x', request: r,
    });
  }
  {
    const secret = 'twitch-eventsub-secret';
    const body = '{"subscription":{"type":"channel.follow"},"event":{"user_id":"1"}}';
    const id = 'e76c6bd4-55c9-4987-8304-da1588d8988b';
    const ts = new Date(NOW * 1000 - 20000).toISOString().replace('Z', '123456Z');
    const sig = 'sha256=' + hmac('sha256', secret, id + ts + body).toString('hex');
    add({
      name: 'Twitch: {header:id}{timestamp}{body}, RFC 3339 timestamp with nanoseconds',
      source: 'node:crypto HMAC-SHA256 (Twitch EventSub\'s documented scheme)',
      definition: { scheme: 'hmac', params: { header: 'Twitch-Eventsub-Message-Signature',
        prefix: 'sha256=', timestamp: 'header:Twitch-Eventsub-Message-Timestamp',
        timestamp_format: 'rfc3339',
        signed: '{header:Twitch-Eventsub-Message-Id}{timestamp}{body}' } },
      secrets: [secret], wrong_secret: secret + 'x',
      request: req({ body, headers: { 'twitch-eventsub-message-id': id,
        'twitch-eventsub-message-timestamp': ts, 'twitch-eventsub-message-signature': sig } }),
    });
  }
  {
    const raw = crypto.randomBytes(32);
    const secret = raw.toString('base64');
    const body = '{"base":{"id":"app1"},"webhook":{"id":"ach1"},"timestamp":"2023-11-14T22:13:20.000Z"}';
    add({
      name: 'Airtable: base64 secret, hmac-sha256= hex',
      source: 'node:crypto HMAC-SHA256 under the base64-decoded macSecretBase64 (Airtable\'s documented scheme)',
      definition: { scheme: 'hmac', params: { header: 'X-Airtable-Content-MAC',
        prefix: 'hmac-sha256=', secret_encoding: 'base64' } },
      secrets: [secret], wrong_secret: crypto.randomBytes(32).toString('base64'),
      request: req({ body, headers: { 'x-airtable-content-mac': 'hmac-sha256=' + hmac('sha256', raw, body).toString('hex') } }),
    });
  }
  {
    const primary = 'box-primary-key', secondary = 'box-secondary-key';
    const body = '{"type":"webhook_event","trigger":"FILE.UPLOADED"}';
    const ts = '2023-11-14T14:13:00-08:00';
    add({
      name: 'Box: two signature headers, the secondary key only, RFC 3339 with an offset',
      source: 'node:crypto HMAC-SHA256 of body+timestamp (Box\'s documented scheme)',
      definition: { scheme: 'hmac', params: {
        signature: ['header:Box-Signature-Primary', 'header:Box-Signature-Secondary'],
        encoding: 'base64', timestamp: 'header:Box-Delivery-Timestamp',
        timestamp_format: 'rfc3339', signed: '{body}{timestamp}' } },
      secrets: [primary, secondary], wrong_secret: 'box-other',
      request: req({ body, headers: { 'box-delivery-timestamp': ts,
        'box-signature-primary': hmac('sha256', 'box-rotated-away', body + ts).toString('base64'),
        'box-signature-secondary': hmac('sha256', secondary, body + ts).toString('base64') } }),
    });
  }
  {
    const secret = 'pagerduty-webhook-secret';
    const body = '{"event":{"id":"01DEN","event_type":"incident.triggered"}}';
    add({
      name: 'PagerDuty: a list of v1= signatures, one per secret',
      source: 'node:crypto HMAC-SHA256 (PagerDuty v3\'s documented scheme)',
      definition: { scheme: 'hmac', params: { header: 'X-PagerDuty-Signature',
        format: 'list', separator: ',', prefix: 'v1=' } },
      secrets: [secret], wrong_secret: secret + 'x',
      request: req({ body, headers: { 'x-pagerduty-signature':
        'v1=' + hmac('sha256', 'old-secret', body).toString('hex') + ', v1=' + hmac('sha256', secret, body).toString('hex') } }),
    });
  }
  {
    const key = 'lark-encrypt-key';
    const body = '{"schema":"2.0","header":{"event_type":"im.message.receive_v1"}}';
    const ts = String(NOW), nonce = '1628829745';
    add({
      name: 'Lark: a SHA-256 digest of timestamp, nonce, key and body ("mac": "hash")',
      source: 'node:crypto SHA-256 (Lark\'s documented X-Lark-Signature)',
      definition: { scheme: 'hmac', params: { header: 'X-Lark-Signature', mac: 'hash',
        timestamp: 'header:X-Lark-Request-Timestamp',
        signed: '{timestamp}{header:X-Lark-Request-Nonce}{secret}{body}' } },
      secrets: [key], wrong_secret: key + 'x',
      request: req({ body, headers: { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce,
        'x-lark-signature': crypto.createHash('sha256').update(ts + nonce + key + body).digest('hex') } }),
    });
  }
  {
    const secret = 'query-signed-secret';
    const body = '{"a":1}';
    const ts = String(NOW);
    const sig = hmac('sha512', Buffer.from('00112233445566778899aabbccddeeff', 'hex'), ts + '.' + body).toString('base64url');
    add({
      name: 'signature and timestamp in the query, SHA-512 base64url, hex secret',
      source: 'node:crypto',
      definition: { scheme: 'hmac', params: { signature: 'query:sig', algorithm: 'sha512',
        encoding: 'base64url', secret_encoding: 'hex', timestamp: 'query:ts',
        signed: '{timestamp}.{body}' } },
      secrets: ['00112233445566778899aabbccddeeff'], wrong_secret: '00112233445566778899aabbccddeef0',
      request: req({ body, query: `ts=${ts}&sig=${sig}` }),
    });
    add({
      name: 'signature in the query: missing',
      source: 'node:crypto',
      definition: cases[cases.length - 1].definition,
      secrets: ['00112233445566778899aabbccddeeff'],
      request: req({ body, query: `ts=${ts}` }),
      expect: 'missing', why: 'missing query parameter sig',
    });
  }

  // --- ed25519 -----------------------------------------------------------
  {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const rawPub = publicKey.export({ format: 'jwk' }).x;
    const hexPub = Buffer.from(rawPub, 'base64url').toString('hex');
    const body = '{"type":1,"id":"1"}';
    const ts = String(NOW);
    const sig = crypto.sign(null, Buffer.from(ts + body), privateKey).toString('hex');
    assert(await discord.verifyKey(body, sig, ts, hexPub), 'discord-interactions verifyKey');
    const other = crypto.generateKeyPairSync('ed25519').publicKey;
    const def = { scheme: 'ed25519', params: { header: 'X-Signature-Ed25519',
      timestamp: 'header:X-Signature-Timestamp', signed: '{timestamp}{body}' } };
    const headers = { 'x-signature-ed25519': sig, 'x-signature-timestamp': ts };
    add({
      name: 'Discord: Ed25519 hex over timestamp+body, key as hex',
      source: 'node:crypto Ed25519, checked by discord-interactions verifyKey',
      definition: def, secrets: [hexPub],
      wrong_secret: Buffer.from(other.export({ format: 'jwk' }).x, 'base64url').toString('hex'),
      request: req({ body, headers }),
    });
    add({
      name: 'Discord: the key as one-line PEM',
      source: 'node:crypto Ed25519, checked by discord-interactions verifyKey',
      definition: def, secrets: [pubPemOneLine(publicKey)], wrong_secret: pubPemOneLine(other),
      request: req({ body, headers }),
    });
    add({
      name: 'Discord: missing X-Signature-Timestamp',
      source: 'node:crypto',
      definition: def, secrets: [hexPub],
      request: req({ body, headers: { 'x-signature-ed25519': sig } }),
      expect: 'missing', why: 'missing X-Signature-Timestamp header',
    });
  }

  // --- ecdsa-p256 ----------------------------------------------------------
  {
    // SendGrid's own published vector (eventwebhook.spec.js).
    const PUBLIC_KEY = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
    const SIGNATURE = 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=';
    const TIMESTAMP = '1600112502';
    const PAYLOAD = JSON.stringify([{ email: 'hello@world.com', event: 'dropped',
      reason: 'Bounced Address', sg_event_id: 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA',
      sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
      'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>', timestamp: 1600112492 }]) + '\r\n';
    const ew = new EventWebhook();
    assert(ew.verifySignature(ew.convertPublicKeyToECDSA(PUBLIC_KEY), PAYLOAD, SIGNATURE, TIMESTAMP), 'sendgrid spec');
    const def = { scheme: 'ecdsa-p256', params: {
      header: 'X-Twilio-Email-Event-Webhook-Signature', encoding: 'base64',
      timestamp: 'header:X-Twilio-Email-Event-Webhook-Timestamp', signed: '{timestamp}{body}' } };
    const other = pubDerB64(crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    add({
      name: 'SendGrid: the published vector of @sendgrid/eventwebhook',
      source: '@sendgrid/eventwebhook src/eventwebhook.spec.js (PUBLIC_KEY, SIGNATURE, TIMESTAMP, PAYLOAD)',
      definition: def, secrets: [PUBLIC_KEY], wrong_secret: other, now: 1600112510,
      request: req({ body: PAYLOAD, headers: {
        'x-twilio-email-event-webhook-signature': SIGNATURE,
        'x-twilio-email-event-webhook-timestamp': TIMESTAMP } }),
    });
    // A fresh one, signed by SendGrid's ECDSA library (starkbank-ecdsa).
    const priv = new ecdsa.PrivateKey(ecdsaCurve.prime256v1);
    const pubPem = priv.publicKey().toPem();
    const body = '[{"email":"a@example.com","event":"delivered","sg_event_id":"x1","timestamp":1699999990}]\r\n';
    const ts = String(NOW - 3);
    const sig = ecdsa.Ecdsa.sign(ts + body, priv).toBase64();
    assert(ew.verifySignature(ew.convertPublicKeyToECDSA(pubPem), body, sig, ts), 'sendgrid fresh');
    add({
      name: 'SendGrid: signed by starkbank-ecdsa, the key as one-line PEM',
      source: 'starkbank-ecdsa (the library @sendgrid/eventwebhook verifies with) Ecdsa.sign, checked by EventWebhook.verifySignature',
      definition: def, secrets: [pubPem.replace(/\n/g, '')], wrong_secret: other,
      request: req({ body, headers: {
        'x-twilio-email-event-webhook-signature': sig,
        'x-twilio-email-event-webhook-timestamp': ts } }),
    });
    const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rawSig = crypto.sign('sha256', Buffer.from(body), { key: kp.privateKey, dsaEncoding: 'ieee-p1363' });
    const jwk = kp.publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    add({
      name: 'ECDSA raw r||s, hex, the key as its 65-byte point in hex',
      source: 'node:crypto ECDSA P-256 ieee-p1363',
      definition: { scheme: 'ecdsa-p256', params: { header: 'X-Sig', encoding: 'hex',
        signature_format: 'raw' } },
      secrets: [point.toString('hex')], wrong_secret: other,
      request: req({ body, headers: { 'x-sig': rawSig.toString('hex') } }),
    });
  }

  // --- token -----------------------------------------------------------------
  {
    const def = { scheme: 'token', params: { token: 'header:X-Gitlab-Token' } };
    add({ name: 'GitLab: X-Gitlab-Token', source: 'GitLab webhook documentation',
      definition: def, secrets: ['gl-secret-token'], wrong_secret: 'gl-secret-tokem', tamper: false,
      request: req({ body: '{"object_kind":"push"}', headers: { 'x-gitlab-token': 'gl-secret-token' } }) });
    add({ name: 'GitLab: a prefix of the token is not the token', source: 'GitLab webhook documentation',
      definition: def, secrets: ['gl-secret-token'],
      request: req({ body: '{}', headers: { 'x-gitlab-token': 'gl-secret' } }),
      expect: 'signature', why: 'X-Gitlab-Token does not match' });
    add({ name: 'GitLab: missing', source: 'GitLab webhook documentation',
      definition: def, secrets: ['gl-secret-token'], request: req({ body: '{}' }),
      expect: 'missing', why: 'missing X-Gitlab-Token header' });
    const graph = { scheme: 'token', params: { token: 'body:/value/*/clientState' } };
    const note = (cs) => ({ subscriptionId: 'sub1', clientState: cs, changeType: 'created',
      resource: 'me/messages/1' });
    add({ name: 'Microsoft Graph: clientState of every notification', source: 'Microsoft Graph change notifications documentation',
      definition: graph, secrets: ['graph-client-state'], wrong_secret: 'graph-other', tamper: false,
      request: req({ body: JSON.stringify({ value: [note('graph-client-state'), note('graph-client-state')] }) }) });
    add({ name: 'Microsoft Graph: one notification with another clientState', source: 'Microsoft Graph change notifications documentation',
      definition: graph, secrets: ['graph-client-state'],
      request: req({ body: JSON.stringify({ value: [note('graph-client-state'), note('forged')] }) }),
      expect: 'signature', why: 'body field /value/1/clientState does not match' });
    add({ name: 'Microsoft Graph: no notifications', source: 'Microsoft Graph change notifications documentation',
      definition: graph, secrets: ['graph-client-state'],
      request: req({ body: '{"value":[]}' }),
      expect: 'missing', why: 'missing body field /value/*/clientState' });
    add({ name: 'token in the query', source: 'hookpipe',
      definition: { scheme: 'token', params: { token: 'query:token' } },
      secrets: ['q-token'], wrong_secret: 'q-tokens', tamper: false,
      request: req({ body: '{}', query: 'a=1&token=q-token' }) });
  }

  // --- basic -------------------------------------------------------------------
  {
    const def = { scheme: 'basic', params: {} };
    const auth = 'Basic ' + Buffer.from('postmark:p4ss:word').toString('base64');
    add({ name: 'Postmark: HTTP Basic credentials', source: 'RFC 7617 (Node Buffer base64)',
      definition: def, secrets: ['postmark:p4ss:word'], wrong_secret: 'postmark:p4ss', tamper: false,
      request: req({ body: '{"RecordType":"Delivery"}', headers: { authorization: auth } }) });
    add({ name: 'Basic: wrong password', source: 'RFC 7617',
      definition: def, secrets: ['postmark:p4ss:word'],
      request: req({ body: '{}', headers: { authorization: 'Basic ' + Buffer.from('postmark:guess').toString('base64') } }),
      expect: 'signature', why: 'credentials in Authorization do not match' });
    add({ name: 'Basic: a Bearer token', source: 'RFC 7617',
      definition: def, secrets: ['postmark:p4ss:word'],
      request: req({ body: '{}', headers: { authorization: 'Bearer abc' } }),
      expect: 'signature', why: 'Authorization is not Basic credentials' });
  }

  // --- jwt ---------------------------------------------------------------------
  {
    const secret = 'netlify-jws-secret';
    const body = '{"id":"5f8c","state":"ready","name":"site"}';
    const digest = crypto.createHash('sha256').update(body).digest('hex');
    const tok = jsonwebtoken.sign({ iss: 'netlify', sha256: digest }, secret,
      { algorithm: 'HS256', noTimestamp: true });
    jsonwebtoken.verify(tok, secret, { issuer: 'netlify' });
    const def = { scheme: 'jwt', params: { token: 'header:X-Webhook-Signature',
      algorithms: ['HS256'], issuer: 'netlify', require: ['sha256'],
      body_digest: { claim: 'sha256', algorithm: 'sha256', encoding: 'hex' } } };
    add({ name: 'Netlify: HS256 JWS whose sha256 claim is the body\'s digest',
      source: 'jsonwebtoken sign (what Netlify\'s documentation verifies with), checked by jsonwebtoken.verify',
      definition: def, secrets: [secret], wrong_secret: secret + 'x',
      request: req({ body, headers: { 'x-webhook-signature': tok } }) });
    add({ name: 'Netlify: another body under the same token',
      source: 'jsonwebtoken sign', definition: def, secrets: [secret],
      request: req({ body: body.replace('ready', 'error'), headers: { 'x-webhook-signature': tok } }),
      expect: 'signature', why: 'the body does not match the JWT\'s sha256 claim' });
    const noneTok = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url') + '.' +
      Buffer.from(JSON.stringify({ iss: 'netlify', sha256: digest })).toString('base64url') + '.x';
    add({ name: 'JWT: alg none', source: 'hand-made', definition: def, secrets: [secret],
      request: req({ body, headers: { 'x-webhook-signature': noneTok } }),
      expect: 'signature', why: 'alg none is not accepted' });
  }
  {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = await jose.exportJWK(publicKey);
    jwk.kid = 'google-key-1';
    jwk.alg = 'RS256';
    jwk.use = 'sig';
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ojwk = await jose.exportJWK(other.publicKey);
    ojwk.kid = 'google-key-0';
    const jwks = { keys: [ojwk, jwk] };
    const body = '{"message":{"data":"eyJlbWFpbEFkZHJlc3MiOiJ1QGV4YW1wbGUuY29tIn0=","messageId":"1"},"subscription":"projects/p/subscriptions/s"}';
    const url = BASE + PATH;
    const sign = (claims, key, kid) => new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
    const claims = { iss: 'https://accounts.google.com', aud: url, email: 'push@p.iam.gserviceaccount.com',
      email_verified: true, iat: NOW - 10, exp: NOW + 3590, sub: '1234' };
    const tok = await sign(claims, privateKey, 'google-key-1');
    await jose.jwtVerify(tok, jose.createLocalJWKSet(jwks), { audience: url, currentDate: new Date(NOW * 1000) });
    const def = { scheme: 'jwt', params: { algorithms: ['RS256'],
      jwks_url: 'https://www.googleapis.com/oauth2/v3/certs',
      issuer: ['https://accounts.google.com', 'accounts.google.com'], audience: '{url}',
      claims: { email_verified: true } } };
    const base = { definition: def, secrets: [], jwks, sub_params: 'claim.email=push@p.iam.gserviceaccount.com\n' };
    add(Object.assign({ name: 'Google Pub/Sub push: RS256 by the JWKS, kid, aud the callback URL',
      source: 'jose SignJWT, checked by jose.jwtVerify against the JWKS', tamper: false,
      request: req({ body, headers: { authorization: 'Bearer ' + tok } }) }, base));
    add(Object.assign({ name: 'Pub/Sub: expired', source: 'jose SignJWT',
      request: req({ body, headers: { authorization: 'Bearer ' + await sign(Object.assign({}, claims, { iat: NOW - 4000, exp: NOW - 400 }), privateKey, 'google-key-1') } }),
      expect: 'timestamp', why: 'the JWT expired 400 s ago' }, base));
    add(Object.assign({ name: 'Pub/Sub: wrong audience', source: 'jose SignJWT',
      request: req({ body, headers: { authorization: 'Bearer ' + await sign(Object.assign({}, claims, { aud: 'https://elsewhere.example/push' }), privateKey, 'google-key-1') } }),
      expect: 'signature', why: 'wrong audience https://elsewhere.example/push' }, base));
    add(Object.assign({ name: 'Pub/Sub: another service account', source: 'jose SignJWT',
      request: req({ body, headers: { authorization: 'Bearer ' + await sign(Object.assign({}, claims, { email: 'evil@x.iam.gserviceaccount.com' }), privateKey, 'google-key-1') } }),
      expect: 'signature', why: 'the JWT\'s email claim is not the subscription\'s' }, base));
    add(Object.assign({ name: 'Pub/Sub: a key the JWKS does not have', source: 'jose SignJWT',
      request: req({ body, headers: { authorization: 'Bearer ' + await sign(claims, privateKey, 'google-key-9') } }),
      expect: 'signature', why: 'no RS256 key with kid google-key-9' }, base));
    add(Object.assign({ name: 'Pub/Sub: signed by another key under a known kid', source: 'jose SignJWT',
      request: req({ body, headers: { authorization: 'Bearer ' + await sign(claims, other.privateKey, 'google-key-1') } }),
      expect: 'signature', why: 'signature does not verify' }, base));
    add({ name: 'Pub/Sub: the JWKS never fetched', source: 'jose SignJWT', definition: def, secrets: [],
      request: req({ body, headers: { authorization: 'Bearer ' + tok } }),
      expect: 'unavailable', why: 'are not fetched yet' });
    // Algorithm confusion: an HS256 token keyed with the public key's PEM.
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const hsTok = jsonwebtoken.sign(claims, pem.replace(/\n/g, ''), { algorithm: 'HS256', noTimestamp: true });
    const pemDef = { scheme: 'jwt', params: { algorithms: ['RS256'], audience: '{url}' } };
    add({ name: 'RS256 with the public key as the secret (one-line PEM)', source: 'jose SignJWT',
      definition: pemDef, secrets: [pem.replace(/\n/g, '')], wrong_secret: pubPemOneLine(other.publicKey),
      tamper: false, request: req({ body, headers: { authorization: 'Bearer ' + tok } }) });
    add({ name: 'RS256: an HS256 token keyed with the public key', source: 'jsonwebtoken sign',
      definition: pemDef, secrets: [pem.replace(/\n/g, '')],
      request: req({ body, headers: { authorization: 'Bearer ' + hsTok } }),
      expect: 'signature', why: 'alg HS256 is not accepted' });
  }
  {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = await jose.exportJWK(publicKey);
    const body = '{"event":"item.created"}';
    const tok = await new jose.SignJWT({ iss: 'acme', exp: NOW + 60 })
      .setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    add({ name: 'ES256 by a jwks_file, no kid', source: 'jose SignJWT',
      definition: { scheme: 'jwt', params: { token: 'header:X-Acme-Token', prefix: '',
        algorithms: ['ES256'], jwks_file: 'JWKS_FILE', issuer: 'acme' } },
      secrets: [], jwks_file: { keys: [jwk] }, tamper: false,
      request: req({ body, headers: { 'x-acme-token': tok } }) });
    add({ name: 'ES256 with the key in the secret (base64 DER)', source: 'jose SignJWT',
      definition: { scheme: 'jwt', params: { token: 'header:X-Acme-Token', prefix: '',
        algorithms: ['ES256'], issuer: 'acme' } },
      secrets: [pubDerB64(publicKey)],
      wrong_secret: pubDerB64(crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      tamper: false, request: req({ body, headers: { 'x-acme-token': tok } }) });
  }

  const out = {
    about: 'Deliveries signed as providers sign them; generated by tests/npm/gen-vectors.js, replayed by tests/unit/test_schemes.c. now: the verifier\'s clock unless a case says otherwise; tolerance 300 s.',
    now: NOW,
    cases,
  };
  const file = path.join(__dirname, '..', 'vectors', 'schemes.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`${cases.length} cases written to ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
