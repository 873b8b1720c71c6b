// Microsoft Graph change notifications: every notification carries the
// subscription's clientState, which must be the secret
// (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks);
// the validation request echoes validationToken as text/plain.
'use strict';

const notification = (clientState) => JSON.stringify({
  value: [{
    subscriptionId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07',
    subscriptionExpirationDateTime: '2026-12-04T11:00:00.0000000Z',
    changeType: 'created', clientState,
    resource: "Users/622eaaff-0683-4862-9de4-f2ec83c2bd98/Messages/AAMkAGUwNjQ4ZjIxAAA=",
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': "Users/622eaaff/Messages/AAMkAGUwNjQ4ZjIxAAA=", id: 'AAMkAGUwNjQ4ZjIxAAA=' },
    tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
  }],
});

module.exports = {
  integration: 'outlook',
  signer: 'docs: learn.microsoft.com graph change-notifications-delivery-webhooks (clientState)',
  secret: 'hookpipe-client-state-9c2e7a1f4b',
  deliveries: [{
    name: 'message created',
    body: '',
    type: 'created',
    tamper: false,
    signature_headers: [],
    sign: ({ key }) => ({ headers: { 'content-type': 'application/json' }, body: notification(key) }),
  }],
  handshakes: [{
    name: 'validation',
    request: () => ({ method: 'POST', query: 'validationToken=Validation%3A%20Testing%20client%20application%20reachability', headers: { 'content-type': 'text/plain' }, body: '' }),
    body: 'Validation: Testing client application reachability',
    content_type: 'text/plain',
  }],
};
