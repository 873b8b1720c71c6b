// monday.com: an Authorization JWT signed HS256 with the app's Signing
// Secret (https://developer.monday.com/apps/docs/authorization-header),
// made with jsonwebtoken, the library monday.com's app examples verify
// it with; the challenge monday.com POSTs when a webhook is created;
// the create_pulse example of monday.com's webhook reference.
'use strict';
const jwt = require('jsonwebtoken');

const sign = ({ key, url, now }) => ({
  headers: {
    'content-type': 'application/json',
    authorization: jwt.sign({
      accountId: 1825528, userId: 4012689, aud: url,
      iat: now, exp: now + 300, shortLivedToken: 'not-a-real-token',
    }, key, { algorithm: 'HS256' }),
  },
});

module.exports = {
  integration: 'monday',
  signer: 'jsonwebtoken@9 sign (HS256), as monday.com documents',
  secret: '8c6f0d3e2b1a49f7a5e4d3c2b1a09f8e',
  deliveries: [{
    name: 'create_pulse, monday.com\'s example',
    body: JSON.stringify({
      event: {
        userId: 9603417, originalTriggerUuid: null, boardId: 1771812698,
        pulseId: 1772099344, pulseName: 'New item', groupId: 'topics',
        groupName: 'Group Title', groupColor: '#579bfc', isTopGroup: true,
        columnValues: {}, app: 'monday', type: 'create_pulse',
        triggerTime: '2021-10-11T09:07:28.210Z', subscriptionId: 73759690,
        triggerUuid: 'b5ed2e17c530f43668de130142445cba',
      },
    }),
    type: 'create_pulse',
    delivery_id: 'b5ed2e17c530f43668de130142445cba',
    sign,
    // The JWT does not cover the body.
    tamper: false,
  }, {
    name: 'update_column_value (a status column)',
    body: JSON.stringify({
      event: {
        app: 'monday', type: 'update_column_value',
        triggerTime: '2021-10-11T09:24:51.835Z', subscriptionId: 73761697,
        userId: 9603417, originalTriggerUuid: null, boardId: 1771812698,
        groupId: 'topics', pulseId: 1771812728, pulseName: 'Build Srv',
        columnId: 'status', columnType: 'color', columnTitle: 'Status',
        value: { label: { index: 1, text: 'Done', style: { color: '#00c875', border: '#00B461', var_name: 'green-shadow' }, is_done: true }, post_id: null },
        previousValue: { label: { index: 0, text: 'Working on it', style: { color: '#fdab3d', border: '#E99729', var_name: 'orange' }, is_done: false }, post_id: null },
        changedAt: 1633944291.5876534, isTopGroup: true,
        triggerUuid: '645fc8d8709d35718f63ba8eca2d4fd6',
      },
    }),
    type: 'update_column_value',
    delivery_id: '645fc8d8709d35718f63ba8eca2d4fd6',
    sign,
    tamper: false,
  }],
  handshakes: [{
    name: 'challenge',
    request: () => ({
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' }),
    }),
    body: (text) => {
      try {
        return JSON.parse(text).challenge === '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'
          ? null : `got ${text}`;
      } catch (e) { return `not JSON: ${text}`; }
    },
    content_type: 'application/json',
  }],
};
