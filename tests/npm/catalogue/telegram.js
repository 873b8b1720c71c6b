// Telegram: setWebhook's secret_token comes back in
// X-Telegram-Bot-Api-Secret-Token (core.telegram.org/bots/api#setwebhook);
// the update's kind is its one field besides update_id.
'use strict';

const sign = ({ key }) => ({
  headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': key },
});
const chat = { id: 1111111, first_name: 'Test', last_name: 'Lastname', username: 'Test', type: 'private' };
const from = { id: 1111111, is_bot: false, first_name: 'Test', last_name: 'Lastname', username: 'Test', language_code: 'en' };

module.exports = {
  integration: 'telegram',
  signer: 'docs: core.telegram.org/bots/api#setwebhook (the secret token)',
  secret: 'b6f1c3a94e0d27f85c1a9e3d7b20f46c',
  deliveries: [
    { name: 'message (a text message)', tamper: false, sign,
      body: { update_id: 10000, message: { date: 1441645532, chat, message_id: 1365, from, text: '/start' } },
      type: 'message', delivery_id: 10000 },
    { name: 'callback_query (an inline button)', tamper: false, sign,
      body: { update_id: 10001, callback_query: { id: '4382bfdwdsb323b2d9', from, data: 'Data from button callback', inline_message_id: '1234csdbsk4839' } },
      type: 'callback_query', delivery_id: 10001 },
    { name: 'my_chat_member (the bot was added to a group)', tamper: false, sign,
      body: { update_id: 10002, my_chat_member: { chat: { id: -1001234567890, title: 'Group', type: 'supergroup' }, from, date: 1441645600,
        old_chat_member: { user: { id: 7000000001, is_bot: true, first_name: 'Bot' }, status: 'left' },
        new_chat_member: { user: { id: 7000000001, is_bot: true, first_name: 'Bot' }, status: 'member' } } },
      type: 'my_chat_member', delivery_id: 10002 },
  ],
};
