// Trello: X-Trello-Webhook, the base64 HMAC-SHA1 of the body followed by
// the callback URL under the app's secret, the rule of
// https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/
// (Webhook Signatures), with Node's crypto; the example payload of that
// page; the HEAD probe Trello makes when the webhook is created.
'use strict';
const crypto = require('crypto');

const sign = ({ key, url, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-trello-webhook': crypto.createHmac('sha1', key).update(body + url).digest('base64'),
  },
});

const action = (id, type, data) => ({
  id, idMemberCreator: '4fc78a59a885233f4b349bd9', data, type,
  date: '2013-07-31T16:58:51.949Z',
  memberCreator: {
    id: '4fc78a59a885233f4b349bd9', avatarHash: '2da34d23b5f1ac1a20e2a01157bfa9fe',
    fullName: 'Doug Patti', initials: 'DP', username: 'doug',
  },
});
const model = {
  id: '4d5ea62fd76aa1136000000c', name: 'Trello Development',
  desc: 'Trello board used by the Trello team to track work on Trello.  How meta!',
  closed: false, idOrganization: '4e1452614e4b8698470000e0', pinned: true,
  url: 'https://trello.com/b/nC8QJJoZ/trello-development',
};
const board = { name: 'Trello Development', id: '4d5ea62fd76aa1136000000c' };

module.exports = {
  integration: 'trello',
  signer: 'docs: developer.atlassian.com/cloud/trello/guides/rest-api/webhooks (node:crypto)',
  secret: 'b8f3c1e9d2a7465f8e0c1b2a3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f',
  deliveries: [{
    name: 'voteOnCard, Trello\'s example',
    body: JSON.stringify({
      action: action('51f9424bcd6e040f3c002412', 'voteOnCard', {
        board, card: { idShort: 1458, name: 'Webhooks', id: '51a79e72dbb7e23c7c003778' }, voted: true,
      }),
      model,
    }),
    type: 'voteOnCard',
    delivery_id: '51f9424bcd6e040f3c002412',
    sign,
  }, {
    name: 'updateCard (moved to another list)',
    body: JSON.stringify({
      action: action('51f9424bcd6e040f3c002413', 'updateCard', {
        board, card: { idShort: 1458, name: 'Webhooks', id: '51a79e72dbb7e23c7c003778', idList: '51a79e72dbb7e23c7c003779' },
        listBefore: { id: '51a79e72dbb7e23c7c003770', name: 'Doing' },
        listAfter: { id: '51a79e72dbb7e23c7c003779', name: 'Done' },
        old: { idList: '51a79e72dbb7e23c7c003770' },
      }),
      model,
    }),
    type: 'updateCard',
    delivery_id: '51f9424bcd6e040f3c002413',
    sign,
  }],
  handshakes: [{
    name: 'HEAD probe',
    request: () => ({ method: 'HEAD' }),
    status: 200,
  }],
};
