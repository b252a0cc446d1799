import t from 'tap';
import { createServer } from 'node:net';
import { silentLogger } from '../../core/logger.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { specialNumbers } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { signTwilioRequest } from '../../notifier/twilio-signature.js';
import { channelContract } from './channel-contract.js';
import { startLocal } from './helpers.js';

const from = '+815000000000';

channelContract(t, 'sms (twilio-node → local Twilio server)', async () => {
  const local = await startLocal();
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  return {
    channel: createSmsChannel({ client, from, logger: silentLogger() }),
    reachable: { language: 'ja', phone: '+819011112222' },
    refused: { language: 'ja', phone: specialNumbers.unsubscribed },
    noAddress: { language: 'en', email: 'someone@example.com' },
    accepted: () => local.messages().length,
    close: () => local.close(),
  };
});

t.test('sms: what reaches Twilio, and how failures come back', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from, logger: silentLogger(), statusCallbackUrl: 'http://127.0.0.1:9/status' });

  const r = await sms.send({ to: { language: 'ja', phone: '+81 90-1111-2222' }, text: '本文' });
  t.equal(r.status, 'queued');
  const m = local.messages()[0];
  t.equal(m?.to, '+819011112222', 'spaces and dashes removed');
  t.equal(m?.from, from);
  t.equal(m?.body, '本文');
  t.equal(m?.statusCallback, 'http://127.0.0.1:9/status');

  const bad = await sms.send({ to: { language: 'ja', phone: '090-1111-2222' }, text: 'x' });
  t.equal(bad.status, 'failed');
  t.match(bad.error, /E\.164/);

  const stop = await sms.send({ to: { language: 'ja', phone: specialNumbers.unsubscribed }, text: 'x' });
  t.match(stop.error, /^twilio 21610 \(HTTP 400\)/);
  t.notMatch(stop.error, /\+8100/, 'no phone number in the error text');

  const wrong = createSmsChannel({ client: createTwilioClient({ accountSid: local.accountSid, authToken: 'f'.repeat(32), baseUrl: local.url }), from, logger: silentLogger() });
  t.match((await wrong.send({ to: { language: 'ja', phone: '+819011112222' }, text: 'x' })).error, /^twilio 20003 \(HTTP 401\)/);
  t.throws(() => createSmsChannel({ client, from: '', logger: silentLogger() }), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('sms: provider unreachable or hanging → failed, no throw', async (t) => {
  // A port nobody listens on.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const down = createSmsChannel({ client: createTwilioClient({ accountSid: `AC${'a'.repeat(32)}`, authToken: 'x'.repeat(32), baseUrl: `http://127.0.0.1:${port}` }), from, logger: silentLogger() });
  const r = await down.send({ to: { language: 'ja', phone: '+819011112222' }, text: 'x' });
  t.equal(r.status, 'failed');
  t.match(r.error, /cannot reach Twilio: ECONNREFUSED/);

  // A server that accepts the connection and never answers: the client's timeout bounds it.
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((s) => { sockets.add(s); });
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
  t.teardown(() => { for (const s of sockets) s.destroy(); silent.close(); });
  const hang = createSmsChannel({ client: createTwilioClient({ accountSid: `AC${'a'.repeat(32)}`, authToken: 'x'.repeat(32), baseUrl: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, timeoutMs: 200 }), from, logger: silentLogger() });
  const h = await hang.send({ to: { language: 'ja', phone: '+819011112222' }, text: 'x' });
  t.equal(h.status, 'failed');
  t.match(h.error, /cannot reach Twilio/);
});

t.test('sms: delivery receipts are read only when signed with the auth token', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from, logger: silentLogger() });
  const url = 'https://hub.example/twilio/status';
  const params = { MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30003', To: '+819011112222' };
  t.same(sms.verifyReceipt?.({ url, signature: signTwilioRequest(local.authToken, url, params), params }), { providerId: 'SM1', status: 'undelivered', error: 'twilio 30003' });
  t.equal(sms.verifyReceipt?.({ url, signature: signTwilioRequest('0'.repeat(32), url, params), params }), undefined, 'forged');
  const notReceipt = { To: '+819011112222' };
  t.equal(sms.verifyReceipt?.({ url, signature: signTwilioRequest(local.authToken, url, notReceipt), params: notReceipt }), undefined, 'signed but not a receipt');
});
