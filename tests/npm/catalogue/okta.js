// Okta Event Hooks: the Authentication secret sent as it is in the
// Authorization header (https://developer.okta.com/docs/concepts/event-hooks/),
// no signature to compute; that page's example delivery; the one-time
// verification GET with X-Okta-Verification-Challenge.
'use strict';

const sign = ({ key }) => ({
  headers: { 'content-type': 'application/json', authorization: key },
});

const delivery = (eventId, uuid, eventType, displayMessage) => JSON.stringify({
  eventType: 'com.okta.event_hook',
  eventTypeVersion: '1.0',
  cloudEventsVersion: '0.1',
  source: 'https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3',
  eventId,
  data: {
    events: [{
      uuid, published: '2021-05-31T22:59:31.532Z', eventType, version: '0',
      displayMessage, severity: 'INFO',
      client: {
        userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
        zone: 'null', device: 'Computer', ipAddress: '10.0.0.1',
      },
      actor: { id: '00u1qw1mqitPHM8AJ0g7', type: 'User', alternateId: 'john.doe@example.com', displayName: 'John Doe', detailEntry: null },
      outcome: { result: 'SUCCESS', reason: null },
      target: null,
      transaction: { type: 'WEB', id: 'YLVpUQxGhGk3bc4wVd7lDAAADD8', detail: {} },
      debugContext: { debugData: { requestUri: '/idp/idx/authenticators/poll' } },
      legacyEventType: 'core.user_auth.login_success',
      authenticationContext: { authenticationStep: 0, externalSessionId: '102bZBDoxFBTa-5L-H4y-jHFg' },
      securityContext: {},
      insertionTimestamp: null,
    }],
  },
  eventTime: '2021-05-31T22:59:33.375Z',
  contentType: 'application/json',
});

const secret = 'okta-hook-secret-5f0a9c2e71d84b36';

module.exports = {
  integration: 'okta',
  signer: 'docs: developer.okta.com/docs/concepts/event-hooks (a header secret)',
  secret,
  deliveries: [{
    name: 'user.session.start, Okta\'s example',
    body: delivery('b5a188b9-5ece-4636-b041-482ffda96311', '4d6da6d8-c1c0-11eb-b7f2-fd0bb3b8ded4',
      'user.session.start', 'User login to Okta'),
    type: 'user.session.start',
    delivery_id: 'b5a188b9-5ece-4636-b041-482ffda96311',
    sign,
    // The secret does not cover the body.
    tamper: false,
  }, {
    name: 'user.lifecycle.create',
    body: delivery('c6b299ca-6fdf-4747-c152-593ffeb07422', '5e7eb7e9-c1c0-11eb-b7f2-fd0bb3b8ded5',
      'user.lifecycle.create', 'Create okta user'),
    type: 'user.lifecycle.create',
    delivery_id: 'c6b299ca-6fdf-4747-c152-593ffeb07422',
    sign,
    tamper: false,
  }],
  handshakes: [{
    name: 'one-time verification',
    request: ({ key }) => ({
      method: 'GET',
      headers: { authorization: key, 'x-okta-verification-challenge': 'LlwELIz3WAOY9cFUjZb-TcTwyLMwvVfcQ97KJ9gkh0s' },
    }),
    body: (text) => {
      try {
        return JSON.parse(text).verification === 'LlwELIz3WAOY9cFUjZb-TcTwyLMwvVfcQ97KJ9gkh0s'
          ? null : `got ${text}`;
      } catch (e) { return `not JSON: ${text}`; }
    },
    content_type: 'application/json',
  }, {
    name: 'verification without the secret is refused',
    request: () => ({
      method: 'GET',
      headers: { authorization: 'not the secret', 'x-okta-verification-challenge': 'LlwELIz3WAOY9cFUjZb-TcTwyLMwvVfcQ97KJ9gkh0s' },
    }),
    status: 403,
  }],
};
