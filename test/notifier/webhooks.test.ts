import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../core/logger.js';
import { signTwilioRequest } from '../../notifier/twilio-signature.js';
import { twilioWebhooks } from '../../notifier/twilio-webhooks.js';
import { recordingResponder } from './channel-contract.js';
import { listen, newApp, startLocal } from './helpers.js';

const ourNumber = '+815000000000';
const taro = '+819011112222';
const ken = '+14155550123';

t.test('SMS replies through the local Twilio server: acknowledge, on my way, help, no alert — answered in the sender\'s language', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const responder = recordingResponder({ [taro]: { alertId: 'a1', contactId: 'taro' }, [ken]: { alertId: 'a1', contactId: 'ken' } });
  const app = newApp();
  await app.register(twilioWebhooks, { authToken: local.authToken, responder, logger: silentLogger(), languageForPhone: async (p) => (p === ken ? 'en' : undefined) });
  const base = await listen(app);
  t.teardown(() => app.close());
  local.setInboundSmsUrl(`${base}/twilio/sms`);

  const ack = await local.simulateInboundSms({ from: taro, to: ourNumber, body: '了解' });
  t.equal(ack.httpStatus, 200);
  t.match(ack.replies[0], /^【見守り】確認を受け付けました/);
  t.same(responder.calls.at(-1), { action: 'acknowledge', input: { alertId: 'a1', contactId: 'taro', via: 'sms' } });

  const omw = await local.simulateInboundSms({ from: ken, to: ourNumber, body: '2 20' });
  t.match(omw.replies[0], /^\[Mimamori\] Thank you, we have noted that you are on your way \(about 20 min\)/, 'English for an English contact, even for digits');
  t.same(responder.calls.at(-1), { action: 'onMyWay', input: { alertId: 'a1', contactId: 'ken', via: 'sms', etaMinutes: 20 } });

  const help = await local.simulateInboundSms({ from: taro, to: ourNumber, body: 'どうしたの?' });
  t.match(help.replies[0], /「1」または「了解」/);
  t.equal(responder.calls.length, 2, 'not understood: nothing done');

  const stranger = await local.simulateInboundSms({ from: '+819099998888', to: ourNumber, body: 'はい' });
  t.match(stranger.replies[0], /いま対応が必要なお知らせはありません/);
  t.equal(responder.calls.length, 2);

  // Twilio sends each <Message> back to the sender as an ordinary outbound SMS.
  await local.settled();
  const out = local.messages();
  t.equal(out.length, 4);
  t.same(out.map((m) => [m.to, m.from]), [[taro, ourNumber], [ken, ourNumber], [taro, ourNumber], ['+819099998888', ourNumber]]);
  t.same(local.inboundMessages().map((m) => m.body), ['了解', '2 20', 'どうしたの?', 'はい']);
});

t.test('the responder\'s refusal is explained', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const responder = recordingResponder({ [taro]: { alertId: 'a1', contactId: 'taro' } }, { ok: false, reason: 'already_resolved', message: 'resolved' });
  const app = newApp();
  await app.register(twilioWebhooks, { authToken: local.authToken, responder, logger: silentLogger() });
  local.setInboundSmsUrl(`${await listen(app)}/twilio/sms`);
  t.teardown(() => app.close());
  const r = await local.simulateInboundSms({ from: taro, to: ourNumber, body: '1' });
  t.match(r.replies[0], /すでに解決済み/);
  const en = recordingResponder({ [ken]: { alertId: 'a1', contactId: 'ken' } }, { ok: false, reason: 'not_a_recipient', message: 'no' });
  const app2 = newApp();
  await app2.register(twilioWebhooks, { authToken: local.authToken, responder: en, logger: silentLogger() });
  local.setInboundSmsUrl(`${await listen(app2)}/twilio/sms`);
  t.teardown(() => app2.close());
  t.match((await local.simulateInboundSms({ from: ken, to: ourNumber, body: 'ok' })).replies[0], /^\[Mimamori\] That could not be recorded/, 'Latin text from a US number: English');
});

t.test('unsigned, forged and replayed-elsewhere webhooks are refused with 403 and logged without personal data', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } }) });
  const token = 'a'.repeat(32);
  const responder = recordingResponder({ [taro]: { alertId: 'a1', contactId: 'taro' } });
  const forwarded: unknown[] = [];
  const app = newApp();
  await app.register(twilioWebhooks, { authToken: token, responder, logger, publicUrl: 'https://hub.example/', receipts: { handleStatusCallback: async (r) => { forwarded.push(r); } } });
  await app.ready();
  t.teardown(() => app.close());
  const post = (url: string, params: Record<string, string>, signature?: string) => app.inject({
    method: 'POST', url, payload: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) },
  });
  const sms = { From: taro, To: ourNumber, Body: '1', MessageSid: 'SM1', AccountSid: 'AC1' };

  t.equal((await post('/twilio/sms', sms)).statusCode, 403, 'unsigned');
  t.equal((await post('/twilio/sms', sms, signTwilioRequest('b'.repeat(32), 'https://hub.example/twilio/sms', sms))).statusCode, 403, 'wrong token');
  t.equal((await post('/twilio/sms', { ...sms, Body: '2' }, signTwilioRequest(token, 'https://hub.example/twilio/sms', sms))).statusCode, 403, 'body changed after signing');
  t.equal((await post('/twilio/sms', sms, signTwilioRequest(token, 'https://other.example/twilio/sms', sms))).statusCode, 403, 'signed for another URL');
  const gather = { CallSid: 'CA1', Digits: '1', AnsweredBy: 'human' };
  t.equal((await post('/twilio/voice/gather?alert=a1&contact=taro&lang=ja', gather, signTwilioRequest(token, 'https://hub.example/twilio/voice/gather?alert=a2&contact=taro&lang=ja', gather))).statusCode, 403, 'alert id in the URL swapped');
  t.equal((await post('/twilio/voice/status', { CallSid: 'CA1', CallStatus: 'completed' })).statusCode, 403, 'unsigned status');
  t.equal(responder.calls.length, 0, 'nothing acted on');
  t.equal(forwarded.length, 0);

  const ok = await post('/twilio/sms', sms, signTwilioRequest(token, 'https://hub.example/twilio/sms', sms));
  t.equal(ok.statusCode, 200);
  t.match(ok.headers['content-type'], /text\/xml/);
  t.match(ok.body, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>【見守り】確認を受け付けました/);
  const status = { CallSid: 'CA1', CallStatus: 'completed', AnsweredBy: 'machine_start' };
  t.equal((await post('/twilio/voice/status', status, signTwilioRequest(token, 'https://hub.example/twilio/voice/status', status))).statusCode, 204);
  t.equal(forwarded.length, 1, 'a verified status callback goes on to the notifier');

  const refused = lines.filter((l) => l.includes('refused a Twilio webhook'));
  t.equal(refused.length, 6, 'every refusal logged');
  const all = lines.join('');
  t.notMatch(all, /819011112222/, 'no phone number in any log line');
  t.notMatch(all, /Body|了解/, 'no message text in any log line');
});

t.test('keypresses: 1, 2, a wrong key, a machine, and no alert id', async (t) => {
  const token = 'c'.repeat(32);
  const responder = recordingResponder();
  const app = newApp();
  await app.register(twilioWebhooks, { authToken: token, responder, logger: silentLogger(), paths: { gather: '/g' } });
  const base = await listen(app);
  t.teardown(() => app.close());
  const press = async (query: string, params: Record<string, string>) => {
    const url = `${base}/g${query}`;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(token, url, params) }, body: new URLSearchParams(params).toString() });
    return { status: res.status, body: await res.text() };
  };
  t.match((await press('?alert=a1&contact=c1&lang=en', { Digits: '1', AnsweredBy: 'human' })).body, /<Say language="en-US">Thank you, your acknowledgement is recorded/);
  t.match((await press('?alert=a1&lang=ja', { Digits: '2' })).body, /<Say language="ja-JP">向かっていただける/);
  t.same(responder.calls, [
    { action: 'acknowledge', input: { alertId: 'a1', contactId: 'c1', via: 'voice' } },
    { action: 'onMyWay', input: { alertId: 'a1', via: 'voice' } },
  ]);
  const wrong = await press('?alert=a1&contact=c1&lang=ja', { Digits: '7' });
  t.match(wrong.body, /<Gather [^>]*action="http:\/\/127\.0\.0\.1:\d+\/g\?alert=a1&amp;contact=c1&amp;lang=ja"><Say language="ja-JP">1か2を押してください。/, 'asked again, same action');
  t.match((await press('?alert=a1&lang=ja', { Digits: '1', AnsweredBy: 'machine_start' })).body, /ご対応をお願いします/);
  t.match((await press('?lang=en', { Digits: '1' })).body, /could not be recorded/);
  t.equal(responder.calls.length, 2, 'neither the wrong key, the machine nor the missing id acted');
});
