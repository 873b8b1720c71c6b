#!/usr/bin/env node
// JWTs and JWKs for the end-to-end tests, with Node's own crypto (an
// implementation independent of the verifier's):
//
//   node jwt.js sign HS256 SECRET CLAIMS_JSON
//   node jwt.js sign RS256|ES256 PRIVATE_KEY.pem CLAIMS_JSON [KID]
//   node jwt.js jwk PUBLIC_OR_PRIVATE_KEY.pem KID     (prints one JWK)
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const b64u = (b) => Buffer.from(b).toString('base64url');
const [cmd, a, b, c, d] = process.argv.slice(2);

if (cmd === 'sign') {
  const alg = a;
  const header = { alg, typ: 'JWT' };
  if (d) header.kid = d;
  const input = b64u(JSON.stringify(header)) + '.' + b64u(c);
  let sig;
  if (alg === 'HS256') {
    sig = crypto.createHmac('sha256', b).update(input).digest();
  } else {
    const key = crypto.createPrivateKey(fs.readFileSync(b));
    sig = crypto.sign('sha256', Buffer.from(input), alg === 'ES256'
      ? { key, dsaEncoding: 'ieee-p1363' } : key);
  }
  process.stdout.write(input + '.' + b64u(sig));
} else if (cmd === 'jwk') {
  const jwk = crypto.createPublicKey(fs.readFileSync(a)).export({ format: 'jwk' });
  jwk.kid = b;
  jwk.use = 'sig';
  process.stdout.write(JSON.stringify(jwk));
} else {
  process.stderr.write('usage: jwt.js sign ALG KEY CLAIMS [KID] | jwk KEY KID\n');
  process.exit(2);
}
