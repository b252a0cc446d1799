import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import { VirtualClock } from '../../core/clock.js';
import { specialNumbers } from '../../notifier/local-twilio-server.js';
import { createTwilioClient, rewriteTwilioUrl } from '../../notifier/twilio-client.js';
import { listen, newApp, startLocal, tempDir, until } from './helpers.js';

const from = '+815000000000';

t.test('the real twilio client sends, fetches and lists messages on the local server', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });

  const m = await client.messages.create({ to: '+819011112222', from, body: 'テストです' });
  t.match(m.sid, /^SM[0-9a-f]{32}$/);
  t.equal(m.status, 'queued');
  t.equal(m.accountSid, local.accountSid);
  t.equal(m.to, '+819011112222');
  t.equal(m.body, 'テストです');
  t.equal(m.direction, 'outbound-api');
  t.ok(m.dateCreated instanceof Date && !Number.isNaN(m.dateCreated.getTime()), 'date_created parses as a date');
  t.equal(m.numSegments, '1');

  const fetched = await client.messages(m.sid).fetch();
  t.equal(fetched.sid, m.sid);
  t.equal(fetched.body, 'テストです');

  await client.messages.create({ to: '+819033334444', from, body: 'second' });
  const listed = await client.messages.list({ limit: 10 });
  t.equal(listed.length, 2);
  t.equal(listed[0]?.body, 'second', 'newest first, as Twilio lists');
  const onlyOne = await client.messages.list({ to: '+819011112222' });
  t.same(onlyOne.map((x) => x.sid), [m.sid], 'filter by To');

  // Paging through twilio-node's own Page machinery.
  for (let i = 0; i < 5; i++) await client.messages.create({ to: '+819055556666', from, body: `p${i}` });
  const paged = await client.messages.list({ pageSize: 2 });
  t.equal(paged.length, 7, 'all pages followed via next_page_uri');

  await t.rejects(client.messages('SM00000000000000000000000000000000').fetch(), { status: 404, code: 20404 });
  t.equal(local.messages().length, 7);
});

t.test('wrong credentials are refused with Twilio\'s 401 error', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const wrong = createTwilioClient({ accountSid: local.accountSid, authToken: 'f'.repeat(32), baseUrl: local.url });
  await t.rejects(wrong.messages.create({ to: '+819011112222', from, body: 'x' }), { status: 401, code: 20003 });
  const otherAccount = createTwilioClient({ accountSid: `AC${'0'.repeat(32)}`, authToken: local.authToken, baseUrl: local.url });
  await t.rejects(otherAccount.messages.create({ to: '+819011112222', from, body: 'x' }), { status: 401, code: 20003 });
  t.equal(local.messages().length, 0, 'nothing recorded');

  // The raw HTTP answer has Twilio's JSON error shape.
  const res = await fetch(`${local.url}/2010-04-01/Accounts/${local.accountSid}/Messages.json`, { method: 'POST' });
  t.equal(res.status, 401);
  t.match(res.headers.get('www-authenticate'), /Basic/);
  t.same(await res.json(), { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
});

t.test('invalid requests get Twilio\'s error codes', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const cases: Array<[Record<string, string>, number]> = [
    [{ to: '090-1111-2222', from, body: 'x' }, 21211],
    [{ to: '+819011112222', from: 'not a number', body: 'x' }, 21212],
    [{ to: '+819011112222', from, body: '' }, 21602],
    [{ to: '+819011112222', from, body: 'あ'.repeat(1601) }, 21617],
    [{ to: '+819011112222', from, body: 'x', statusCallback: 'ftp://nope' }, 21609],
    [{ to: specialNumbers.unsubscribed, from, body: 'x' }, 21610],
  ];
  for (const [params, code] of cases) {
    await t.rejects(client.messages.create(params as never), { status: 400, code }, `error ${code}`);
  }
  // Missing To / From reach the server only through raw HTTP (twilio-node checks them itself).
  const auth = `Basic ${Buffer.from(`${local.accountSid}:${local.authToken}`).toString('base64')}`;
  const post = (body: string) => fetch(`${local.url}/2010-04-01/Accounts/${local.accountSid}/Messages.json`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });
  t.equal(((await (await post('From=%2B815000000000&Body=x')).json()) as { code: number }).code, 21604);
  t.equal(((await (await post('To=%2B819011112222&Body=x')).json()) as { code: number }).code, 21603);
  t.equal(local.messages().length, 0);
  const ok = await client.messages.create({ to: '+819011112222', from, body: 'あ'.repeat(1600) });
  t.equal(ok.numSegments, String(Math.ceil(1600 / 67)), 'UCS-2 segments counted');
});

t.test('messages move queued → sent → delivered on the clock, with signed status callbacks and a record file', async (t) => {
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const dir = tempDir(t);
  const recordFile = join(dir, 'sub', 'twilio-messages.ndjson');
  const local = await startLocal(clock, recordFile);
  t.teardown(() => local.close());

  const received: Array<{ url: string; signature: string; params: Record<string, string> }> = [];
  const app = newApp();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.post('/status', async (req) => {
    received.push({ url: `http://${req.host}${req.url}`, signature: String(req.headers['x-twilio-signature']), params: req.body as Record<string, string> });
    return '';
  });
  const base = await listen(app);
  t.teardown(() => app.close());
  const callback = `${base}/status?home=h1`;

  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const seen: string[] = [];
  const off = local.onMessage((m) => seen.push(m.status));
  const ok = await client.messages.create({ to: '+819011112222', from, body: 'ok', statusCallback: callback });
  const failed = await client.messages.create({ to: specialNumbers.failed, from, body: 'f', statusCallback: callback });
  const undelivered = await client.messages.create({ to: specialNumbers.undelivered, from, body: 'u', statusCallback: callback });
  t.equal(local.messages().find((m) => m.sid === ok.sid)?.status, 'queued', 'still queued until the clock moves');

  clock.advanceBy(100);
  await local.settled();
  t.equal((await client.messages(ok.sid).fetch()).status, 'sent');
  t.equal((await client.messages(failed.sid).fetch()).status, 'failed');
  clock.advanceBy(300);
  await local.settled();
  const final = await client.messages(ok.sid).fetch();
  t.equal(final.status, 'delivered');
  t.ok(final.dateSent, 'date_sent set');
  const und = await client.messages(undelivered.sid).fetch();
  t.equal(und.status, 'undelivered');
  t.equal(und.errorCode, 30003);
  t.equal((await client.messages(failed.sid).fetch()).errorCode, 30008);
  off();

  await until(() => received.length === 5, 5000, 'five status callbacks');
  const statuses = (sid: string) => received.filter((r) => r.params.MessageSid === sid).map((r) => r.params.MessageStatus);
  t.same(statuses(ok.sid), ['sent', 'delivered']);
  t.same(statuses(failed.sid), ['failed']);
  t.same(statuses(undelivered.sid), ['sent', 'undelivered']);
  t.equal(received.find((r) => r.params.MessageStatus === 'undelivered')?.params.ErrorCode, '30003');
  for (const r of received) {
    t.equal(r.url, callback);
    t.equal(r.params.AccountSid, local.accountSid);
    t.ok(twilio.validateRequest(local.authToken, r.signature, r.url, r.params), 'twilio-node accepts the callback signature');
    t.notOk(twilio.validateRequest('0'.repeat(32), r.signature, r.url, r.params), 'and only with the right token');
  }
  t.same(seen.slice(0, 3), ['queued', 'queued', 'queued']);
  t.ok(seen.includes('delivered'));

  await local.settled();
  const lines = readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const accepted = lines.filter((l) => l.kind === 'message');
  t.equal(accepted.length, 3, 'each accepted message recorded');
  t.equal(accepted[0]?.sid, ok.sid);
  t.equal(accepted[0]?.to, '+819011112222');
  t.equal(accepted[0]?.body, 'ok');
  t.same(lines.filter((l) => l.kind === 'status' && l.sid === ok.sid).map((l) => l.status), ['sent', 'delivered']);
});

t.test('twilio hosts are rewritten to the local server, others are left alone', async (t) => {
  t.equal(rewriteTwilioUrl('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2', 'http://127.0.0.1:9'), 'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json?PageSize=2');
  t.equal(rewriteTwilioUrl('https://api.sydney.au1.twilio.com/x', 'http://127.0.0.1:9/fake/'), 'http://127.0.0.1:9/fake/x');
  t.equal(rewriteTwilioUrl('https://example.com/x', 'http://127.0.0.1:9'), 'https://example.com/x');
  t.throws(() => createTwilioClient({ accountSid: 'nope', authToken: 'x' }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.throws(() => createTwilioClient({ accountSid: `AC${'1'.repeat(32)}`, authToken: '' }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.throws(() => createTwilioClient({ accountSid: `AC${'1'.repeat(32)}`, authToken: 'x', baseUrl: 'not a url' }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.ok(createTwilioClient({ accountSid: `AC${'1'.repeat(32)}`, authToken: 'x' }).messages, 'a real-Twilio client can be built without network');
});
