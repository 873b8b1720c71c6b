// Cal.com: X-Cal-Signature-256, the hex HMAC-SHA256 of the body under
// the webhook's secret, as Cal.com's sendPayload computes it and as
// https://cal.com/docs/developing/guides/automation/webhooks (Verifying
// the authenticity of the received payload) says, with Node's crypto;
// the BOOKING_CREATED example of those docs.
'use strict';
const crypto = require('crypto');

const sign = ({ key, body }) => ({
  headers: {
    'content-type': 'application/json',
    'x-cal-signature-256': crypto.createHmac('sha256', key).update(body).digest('hex'),
  },
});

const organizer = {
  id: 5, name: 'Pro Example', email: 'pro@example.com', username: 'pro',
  timeZone: 'Asia/Kolkata', language: { locale: 'en' }, timeFormat: 'h:mma',
};
const attendees = [{ email: 'john.doe@example.com', name: 'John Doe', timeZone: 'Asia/Kolkata', language: { locale: 'en' } }];

module.exports = {
  integration: 'calcom',
  signer: 'docs: cal.com/docs/developing/guides/automation/webhooks (node:crypto)',
  secret: 'a8f5f167f44f4964e6c998dee827110c',
  deliveries: [{
    name: 'BOOKING_CREATED, Cal.com\'s example',
    body: JSON.stringify({
      triggerEvent: 'BOOKING_CREATED',
      createdAt: '2023-05-24T09:30:00.538Z',
      payload: {
        type: '60min', title: '60min between Pro Example and John Doe',
        description: '', additionalNotes: '', customInputs: {},
        startTime: '2023-05-25T09:30:00Z', endTime: '2023-05-25T10:30:00Z',
        organizer,
        responses: {
          name: { label: 'your_name', value: 'John Doe' },
          email: { label: 'email_address', value: 'john.doe@example.com' },
          location: { label: 'location', value: { optionValue: '', value: 'integrations:daily' } },
        },
        userFieldsResponses: {}, attendees, location: 'Cal Video',
        destinationCalendar: null, hideCalendarNotes: false, requiresConfirmation: null,
        eventTypeId: 7, seatsShowAttendees: true, seatsPerTimeSlot: null,
        uid: 'bFJeNb2uX8ANpT3JL5EfXw', eventTitle: '60min', eventDescription: null,
        price: 0, currency: 'usd', length: 60, bookingId: 91,
        metadata: { videoCallUrl: 'https://app.cal.com/video/bFJeNb2uX8ANpT3JL5EfXw' },
        status: 'ACCEPTED',
      },
    }),
    type: 'BOOKING_CREATED',
    sign,
  }, {
    name: 'BOOKING_CANCELLED',
    body: JSON.stringify({
      triggerEvent: 'BOOKING_CANCELLED',
      createdAt: '2023-05-24T10:02:11.101Z',
      payload: {
        type: '60min', title: '60min between Pro Example and John Doe',
        startTime: '2023-05-25T09:30:00Z', endTime: '2023-05-25T10:30:00Z',
        organizer, attendees, uid: 'bFJeNb2uX8ANpT3JL5EfXw', bookingId: 91,
        cancellationReason: 'Something came up', status: 'CANCELLED',
      },
    }),
    type: 'BOOKING_CANCELLED',
    sign,
  }],
};
