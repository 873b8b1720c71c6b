// Mux: mux-signature "t=<unix>,v1=<hex HMAC-SHA256 of t.body>" under the
// webhook's signing secret, the rule of
// https://docs.mux.com/core/verify-webhook-signatures, computed with
// Node's crypto (@mux/mux-node only verifies) and checked with
// @mux/mux-node's webhooks.verifySignature before it is sent; the
// video.asset.ready example of Mux's webhook reference.
'use strict';
const crypto = require('crypto');
const Mux = require('@mux/mux-node').default;

const mux = new Mux({ tokenId: 'unused', tokenSecret: 'unused' });
const secret = 'k8e2v0lq5n3rb0a7t4d9c6m1x2f8h5js';

const sign = async ({ key, body, now }) => {
  const v1 = crypto.createHmac('sha256', key).update(`${now}.${body}`).digest('hex');
  const headers = { 'content-type': 'application/json', 'mux-signature': `t=${now},v1=${v1}` };
  // What Mux's own code accepts, with the subscription's secret.
  if (key === secret) await mux.webhooks.verifySignature(body, headers, secret);
  return { headers };
};

const asset = {
  id: '0201p02fGKPE7MrbC269XRD7LpcHhrmbu0002', status: 'ready',
  playback_ids: [{ policy: 'public', id: 'sdh02tMT01e4yBHs3ZVNeG01JScfTrSpHuB' }],
  mp4_support: 'none', max_stored_resolution: 'HD', max_stored_frame_rate: 29.97,
  master_access: 'none', duration: 23.8, created_at: 1609869152,
  aspect_ratio: '16:9', tracks: [{ type: 'video', max_width: 1920, max_height: 1080, max_frame_rate: 29.97, id: '001dvaJm9Jw02dQbjA9CjB7WGAcbOeXN' }],
};

module.exports = {
  integration: 'mux',
  signer: 'node:crypto, checked by @mux/mux-node@15 webhooks.verifySignature',
  secret,
  deliveries: [{
    name: 'video.asset.ready, Mux\'s example',
    body: JSON.stringify({
      type: 'video.asset.ready',
      object: { type: 'asset', id: '0201p02fGKPE7MrbC269XRD7LpcHhrmbu0002' },
      id: '3a56ac3d-33da-4366-855b-f592d898409d',
      environment: { name: 'Demo pages', id: 'j0863n' },
      data: asset,
      created_at: '2021-01-05T17:52:37.000000Z',
      accessor_source: null, accessor: null, request_id: null,
      attempts: [],
    }),
    type: 'video.asset.ready',
    delivery_id: '3a56ac3d-33da-4366-855b-f592d898409d',
    sign,
  }, {
    name: 'video.live_stream.active, a second attempt',
    body: JSON.stringify({
      type: 'video.live_stream.active',
      object: { type: 'live', id: 'ZEBrNTpHC02iUah025KM3te6ylM7W4S4silsrFtUkn3Ag' },
      id: '6a5b6f2c-8f1e-4b53-9a4e-3c2d1b0a9f8e',
      environment: { name: 'Production', id: 'uc6jp6' },
      data: { id: 'ZEBrNTpHC02iUah025KM3te6ylM7W4S4silsrFtUkn3Ag', status: 'active', stream_key: 'redacted', active_asset_id: 'HBUwT3XWwvDNgW2XE8M02kAWq00k3j92Jz' },
      created_at: '2021-01-05T18:00:01.000000Z',
      attempts: [{ webhook_id: 6102, response_status_code: 500, response_headers: {}, response_body: '', max_attempts: 30, id: '7f3b7a8e-3b41-4d5b-9a2c-2f0e8c6c1a10', created_at: '2021-01-05T18:00:02.000000Z', address: 'https://example.com/mux' }],
    }),
    type: 'video.live_stream.active',
    delivery_id: '6a5b6f2c-8f1e-4b53-9a4e-3c2d1b0a9f8e',
    sign,
  }],
};
