// Netlify: X-Webhook-Signature is a JWS (HS256, iss netlify) whose
// sha256 claim is the hex SHA-256 of the body
// (docs.netlify.com/site-deploys/deploy-notifications/#payload-signature),
// signed by jsonwebtoken and checked with jsonwebtoken.verify as that
// page does.
'use strict';
const crypto = require('crypto');
const jwt = require('jsonwebtoken');

const sign = ({ key, body }) => {
  const sha256 = crypto.createHash('sha256').update(body).digest('hex');
  const token = jwt.sign({ iss: 'netlify', sha256 }, key, { algorithm: 'HS256', noTimestamp: false });
  if (key === module.exports.secret) {
    const c = jwt.verify(token, key, { issuer: ['netlify'], algorithms: ['HS256'] });
    if (c.sha256 !== sha256) throw new Error('jsonwebtoken.verify: the digest differs');
  }
  return { headers: { 'content-type': 'application/json', 'x-webhook-signature': token } };
};

// A deploy notification (Netlify's deploy object) and a form submission.
const ready = {
  id: '5ebc34bf4fea0b01f02efa3a', site_id: 'fa4dd95a-994e-4f89-8a7a-2d9e9fc36a32', build_id: '5ebc34bf4fea0b01f02efa38',
  state: 'ready', name: 'www-example', url: 'https://www.example.com', ssl_url: 'https://www.example.com',
  admin_url: 'https://app.netlify.com/sites/www-example',
  deploy_ssl_url: 'https://5ebc34bf4fea0b01f02efa3a--www-example.netlify.app',
  created_at: '2020-05-13T17:56:15.346Z', updated_at: '2020-05-13T17:58:56.738Z', error_message: null,
  branch: 'main', commit_ref: null, context: 'production', deploy_time: 159, published_at: '2020-05-13T17:58:56.634Z',
};
const building = Object.assign({}, ready, { state: 'building', updated_at: '2020-05-13T17:56:16.000Z', published_at: null, deploy_time: null });
const submission = {
  number: 7, title: null, email: 'jane@example.com', name: 'Jane Doe', first_name: 'Jane', last_name: 'Doe',
  company: null, summary: '<strong>Jane Doe</strong> Hello', body: 'Hello',
  data: { name: 'Jane Doe', email: 'jane@example.com', message: 'Hello', ip: '203.0.113.7' },
  created_at: '2024-05-14T17:05:46.383Z', human_fields: { Name: 'Jane Doe', Email: 'jane@example.com', Message: 'Hello' },
  id: '6643a1b2c3d4e5f6a7b8c9d0', form_id: '5f0c9a1d7e3b4a2c1d0e9f8a', site_url: 'https://www.example.com', form_name: 'contact',
};

module.exports = {
  integration: 'netlify',
  signer: 'jsonwebtoken sign HS256, checked by jsonwebtoken.verify (Netlify\'s documented check)',
  secret: 'netlify-jws-7c2e9b4f1a',
  deliveries: [
    { name: 'deploy building', body: building, type: 'deploy.building', sign },
    { name: 'deploy succeeded', body: ready, type: 'deploy.ready', sign },
    { name: 'deploy succeeded, retried (the same body)', body: ready, type: null, negatives: false, sign },
    { name: 'form submission', body: submission, type: 'submission.contact', sign },
  ],
};
