import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { DeliveryReceipt, ReceiptRequest } from '../../notifier/channel.js';
import { callReceipt, createVoiceChannel, gatherActionUrl } from '../../notifier/channels/voice.js';
import { specialCallNumbers } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { signTwilioRequest } from '../../notifier/twilio-signature.js';
import { twilioWebhooks } from '../../notifier/twilio-webhooks.js';
import { channelContract, recordingResponder } from './channel-contract.js';
import { listen, newApp, startLocal, until } from './helpers.js';

const from = '+815000000000';

channelContract(t, 'voice (twilio-node → local Twilio server)', async () => {
  const local = await startLocal();
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  return {
    channel: createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: 'http://127.0.0.1:9/twilio/voice/gather' }),
    reachable: { language: 'ja', phone: '+819011112222', id: 'c1' },
    refused: { language: 'ja', phone: '090-1111-2222' },
    noAddress: { language: 'en', email: 'someone@example.com' },
    accepted: () => local.calls().length,
    close: () => local.close(),
  };
});

/** The hub side: the webhook plugin on a real port, voice status callbacks checked by the channel. */
async function hub(t: Test, authToken: string, phones: Parameters<typeof recordingResponder>[0] = {}) {
  const responder = recordingResponder(phones);
  const receipts: DeliveryReceipt[] = [];
  const forwarded: ReceiptRequest[] = [];
  const app = newApp();
  await app.register(twilioWebhooks, { authToken, responder, logger: silentLogger(), receipts: { handleStatusCallback: async (req) => { forwarded.push(req); } } });
  const base = await listen(app);
  t.teardown(() => app.close());
  return { responder, receipts, forwarded, base };
}

t.test('a call reads the alert, the callee presses 1, and the hub hears an acknowledgement for that alert', async (t) => {
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const local = await startLocal(clock);
  t.teardown(() => local.close());
  const h = await hub(t, local.authToken);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const voice = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: `${h.base}/twilio/voice/gather`, statusCallbackUrl: `${h.base}/twilio/voice/status` });

  const r = await voice.send({ to: { id: 'taro', language: 'ja', phone: specialCallNumbers.pressOne }, text: '山田花子さん: 浴室の水が<60分>流れたままです', alertId: 'alert-7' });
  t.equal(r.status, 'queued');
  t.match(r.providerId, /^CA[0-9a-f]{32}$/);
  const placed = local.calls()[0];
  t.equal(placed?.machineDetection, 'Enable', 'answering-machine detection asked for');
  t.match(placed?.twiml, /<Say language="ja-JP">山田花子さん: 浴室の水が&lt;60分&gt;流れたままです<\/Say>/, 'text escaped, Japanese voice');
  t.equal(placed?.twiml?.match(/<Gather /g)?.length, 2, 'asked twice');
  t.match(placed?.twiml, /<Gather input="dtmf" numDigits="1"[^>]*action="[^"]*alert=alert-7&amp;contact=taro&amp;lang=ja"/);

  clock.advanceBy(60_000);
  await until(async () => { await local.settled(); return h.responder.calls.length === 1 && (local.calls()[0]?.status === 'completed'); }, 5000, 'the keypress and hang-up');
  await local.settled();
  t.same(h.responder.calls, [{ action: 'acknowledge', input: { alertId: 'alert-7', contactId: 'taro', via: 'voice' } }]);
  const done = local.calls()[0];
  t.equal(done?.digits, '1');
  t.equal(done?.gatherResponse?.status, 200);
  t.match(done?.gatherResponse?.body, /<Say language="ja-JP">確認を受け付けました/, 'confirmation spoken in Japanese');
  t.equal(done?.answeredBy, 'human');

  // Status callbacks went to the hub, in order, and read as delivered to a person.
  const statuses = h.forwarded.map((f) => f.params.CallStatus);
  t.same(statuses, ['initiated', 'ringing', 'in-progress', 'completed']);
  const receipts = h.forwarded.map((f) => voice.verifyReceipt?.(f));
  t.same(receipts.at(-1), { providerId: r.providerId, status: 'delivered', outcome: 'reached' });
});

t.test('2 on an English call is "on my way"; a voicemail never counts as reached', async (t) => {
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const local = await startLocal(clock);
  t.teardown(() => local.close());
  const h = await hub(t, local.authToken);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const voice = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: `${h.base}/twilio/voice/gather`, statusCallbackUrl: `${h.base}/twilio/voice/status` });

  const two = await voice.send({ to: { id: 'ken', language: 'en', phone: specialCallNumbers.pressTwo }, text: 'Bath water running', alertId: 'a2' });
  const vm = await voice.send({ to: { id: 'kaz', language: 'ja', phone: specialCallNumbers.voicemail }, text: '留守電', alertId: 'a2' });
  t.match(local.calls()[0]?.twiml, /<Say language="en-US">Bath water running<\/Say>/);

  clock.advanceBy(60_000);
  await until(async () => { await local.settled(); return local.calls().every((c) => c.status === 'completed'); }, 5000, 'both calls to end');
  await local.settled();
  t.same(h.responder.calls, [{ action: 'onMyWay', input: { alertId: 'a2', contactId: 'ken', via: 'voice' } }], 'only the person pressed a key');
  t.match(local.calls()[0]?.gatherResponse?.body, /<Say language="en-US">Thank you, we have noted that you are on your way/);

  const vmReceipts = h.forwarded.filter((f) => f.params.CallSid === vm.providerId).map((f) => voice.verifyReceipt?.(f));
  t.ok(vmReceipts.length > 0);
  const last = vmReceipts.at(-1);
  t.equal(last?.status, 'undelivered', 'voicemail is not delivery');
  t.equal(last?.outcome, 'voicemail');
  t.notOk(vmReceipts.some((x) => x?.outcome === 'reached'), 'no receipt of the voicemail call says reached');
  t.equal(local.calls()[1]?.answeredBy, 'machine_start');
  t.equal(local.calls()[1]?.digits, undefined, 'a machine presses nothing');
  t.equal(h.forwarded.filter((f) => f.params.CallSid === two.providerId).at(-1)?.params.AnsweredBy, 'human');
});

t.test('no answer, busy and failed calls come back as undelivered or failed with an outcome', async (t) => {
  const clock = new VirtualClock(0);
  const local = await startLocal(clock);
  t.teardown(() => local.close());
  const h = await hub(t, local.authToken);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const voice = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: `${h.base}/twilio/voice/gather`, statusCallbackUrl: `${h.base}/twilio/voice/status` });
  const sids: Record<string, string | undefined> = {};
  for (const [name, phone] of [['noAnswer', specialCallNumbers.noAnswer], ['busy', specialCallNumbers.busy], ['failed', specialCallNumbers.failed]] as const) {
    sids[name] = (await voice.send({ to: { language: 'ja', phone }, text: 'x' })).providerId;
  }
  clock.advanceBy(120_000);
  await until(async () => { await local.settled(); return h.forwarded.filter((f) => ['no-answer', 'busy', 'failed'].includes(String(f.params.CallStatus))).length === 3; }, 5000, 'final callbacks');
  const final = (sid: string | undefined) => voice.verifyReceipt?.(h.forwarded.filter((f) => f.params.CallSid === sid).at(-1)!);
  t.same(final(sids.noAnswer), { providerId: sids.noAnswer, status: 'undelivered', outcome: 'no-answer', error: 'no answer' });
  t.same(final(sids.busy), { providerId: sids.busy, status: 'undelivered', outcome: 'busy', error: 'busy' });
  t.same(final(sids.failed), { providerId: sids.failed, status: 'failed', outcome: 'failed', error: 'call failed' });
});

t.test('call receipts: AMD results, unknown, and signatures', async (t) => {
  t.same(callReceipt({ CallSid: 'CA1', CallStatus: 'in-progress', AnsweredBy: 'human' }), { providerId: 'CA1', status: 'delivered', outcome: 'reached' });
  t.same(callReceipt({ CallSid: 'CA1', CallStatus: 'completed' }), { providerId: 'CA1', status: 'delivered', outcome: 'reached' }, 'without AMD an answered call is reached');
  for (const who of ['machine_start', 'machine_end_beep', 'fax', 'unknown']) {
    t.equal(callReceipt({ CallSid: 'CA1', CallStatus: 'completed', AnsweredBy: who })?.outcome, 'voicemail', `${who} is not a person`);
  }
  t.equal(callReceipt({ CallSid: 'CA1', CallStatus: 'ringing' })?.status, 'sending');
  t.equal(callReceipt({ CallSid: 'CA1', CallStatus: 'queued' })?.status, 'queued');
  t.equal(callReceipt({ CallSid: 'CA1', CallStatus: 'canceled' })?.status, 'canceled');
  t.equal(callReceipt({ CallStatus: 'completed' }), undefined);

  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const voice = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: 'https://hub.example/g' });
  const url = 'https://hub.example/twilio/voice/status';
  const params = { CallSid: 'CA9', CallStatus: 'completed', AnsweredBy: 'machine_start' };
  t.equal(voice.verifyReceipt?.({ url, signature: signTwilioRequest(local.authToken, url, params), params })?.outcome, 'voicemail');
  t.equal(voice.verifyReceipt?.({ url, signature: signTwilioRequest('0'.repeat(32), url, params), params }), undefined, 'forged');
});

t.test('long alert text is shortened to fit Twilio\'s 4000-character TwiML limit; bad options refused', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const voice = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: 'https://hub.example/g' });
  const r = await voice.send({ to: { language: 'ja', phone: '+819011112222' }, text: '長い&文'.repeat(800), alertId: 'a' });
  t.equal(r.status, 'queued', 'accepted, not refused with 32018');
  const doc = local.calls()[0]?.twiml ?? '';
  t.ok(doc.length <= 4000 && doc.length > 3900, `twiml is ${doc.length} characters: as much of the text as fits`);
  t.match(doc, /…<\/Say>/);
  t.match(doc, /確認した方は1を/, 'the options are never cut');
  t.equal(gatherActionUrl('https://hub.example/g?x=1', { alertId: 'a 1', language: 'en' }), 'https://hub.example/g?x=1&alert=a+1&lang=en');
  t.throws(() => createVoiceChannel({ client, from: 'abc', logger: silentLogger(), gatherActionUrl: 'https://hub.example/g' }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.throws(() => createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: '/relative' }), { code: 'MIMAMORI_ERR_CONFIG' });
  const noAmd = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: 'https://hub.example/g', machineDetection: false, ringSeconds: 25 });
  await noAmd.send({ to: { language: 'en', phone: '+819011112222' }, text: 'x' });
  t.equal(local.calls()[1]?.machineDetection, undefined);
});
