import t from 'tap';
import twilio from 'twilio';
import { signTwilioRequest, validateTwilioSignature } from '../../notifier/twilio-signature.js';

const token = '12345678901234567890123456789012';

t.test('signatures match twilio-node\'s helpers exactly', async (t) => {
  const cases: Array<[string, Record<string, string | string[]>]> = [
    ['https://hub.example/twilio/status', { MessageSid: 'SM0123', MessageStatus: 'delivered', To: '+819011112222', From: '+815000000000' }],
    ['https://hub.example/twilio/status?home=h1&x=%27', { b: '2', a: '1', Body: '見守り テスト & = ?' }],
    ['http://127.0.0.1:40123/status', {}],
    ['https://hub.example/multi', { Tag: ['z', 'a', 'z'], One: 'x' }],
  ];
  for (const [url, params] of cases) {
    const ours = signTwilioRequest(token, url, params);
    t.equal(ours, twilio.getExpectedTwilioSignature(token, url, params), `same signature for ${url}`);
    t.ok(twilio.validateRequest(token, ours, url, params), 'twilio-node validates ours');
    t.ok(validateTwilioSignature(token, ours, url, params), 'we validate ours');
    t.ok(validateTwilioSignature(token, twilio.getExpectedTwilioSignature(token, url, params), url, params), 'we validate twilio-node\'s');
  }
});

t.test('the documented example from Twilio\'s security page', async (t) => {
  // https://www.twilio.com/docs/usage/security#validating-requests
  const url = 'https://example.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
  const sig = signTwilioRequest(token, url, params);
  t.ok(twilio.validateRequest(token, sig, url, params));
});

t.test('tampering, a wrong token or a missing header is refused', async (t) => {
  const url = 'https://hub.example/twilio/status';
  const params = { MessageSid: 'SM1', MessageStatus: 'delivered' };
  const sig = signTwilioRequest(token, url, params);
  t.notOk(validateTwilioSignature(token, sig, url, { ...params, MessageStatus: 'failed' }), 'changed parameter');
  t.notOk(validateTwilioSignature(token, sig, url, { ...params, Extra: '1' }), 'added parameter');
  t.notOk(validateTwilioSignature(token, sig, 'https://evil.example/twilio/status', params), 'other URL');
  t.notOk(validateTwilioSignature('x'.repeat(32), sig, url, params), 'wrong token');
  t.notOk(validateTwilioSignature(token, undefined, url, params), 'no header');
  t.notOk(validateTwilioSignature(token, 'short', url, params), 'garbage header');
});

t.test('a signature made with or without the default port is accepted either way', async (t) => {
  const params = { a: '1' };
  t.ok(validateTwilioSignature(token, signTwilioRequest(token, 'https://hub.example:443/s', params), 'https://hub.example/s', params));
  t.ok(validateTwilioSignature(token, signTwilioRequest(token, 'https://hub.example/s', params), 'https://hub.example:443/s', params));
  t.ok(validateTwilioSignature(token, signTwilioRequest(token, 'http://hub.example/s?q=1', params), 'http://hub.example:80/s?q=1', params));
  t.notOk(validateTwilioSignature(token, signTwilioRequest(token, 'https://hub.example:8443/s', params), 'https://hub.example/s', params), 'a non-default port is part of the URL');
  t.notOk(validateTwilioSignature(token, signTwilioRequest(token, 'https://hub.example/s', params), 'not a url', params));
});
