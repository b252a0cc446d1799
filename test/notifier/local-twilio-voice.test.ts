import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import { VirtualClock } from '../../core/clock.js';
import { readTwiml, specialCallNumbers } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { listen, newApp, startLocal, tempDir, until } from './helpers.js';

const from = '+815000000000';
const twiml = '<?xml version="1.0"?><Response><Say language="ja-JP">テスト</Say></Response>';

t.test('Calls.json: Twilio\'s validation errors', async (t) => {
  const local = await startLocal();
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const cases: Array<[Record<string, unknown>, number]> = [
    [{ to: '090-1111-2222', from, twiml }, 21211],
    [{ to: '+819011112222', from: 'x', twiml }, 21212],
    [{ to: '+819011112222', from }, 21205],
    [{ to: '+819011112222', from, url: 'ftp://x' }, 21205],
    [{ to: '+819011112222', from, twiml: `<Response><Say>${'あ'.repeat(4000)}</Say></Response>` }, 32018],
    [{ to: '+819011112222', from, twiml, statusCallback: 'nope' }, 21609],
    [{ to: '+819011112222', from, twiml, statusCallbackEvent: ['exploded'] }, 21626],
    [{ to: '+819011112222', from, twiml, machineDetection: 'Maybe' }, 21626],
  ];
  for (const [params, code] of cases) await t.rejects(client.calls.create(params as never), { status: 400, code }, `error ${code}`);
  const auth = `Basic ${Buffer.from(`${local.accountSid}:${local.authToken}`).toString('base64')}`;
  const raw = async (body: string) => ((await (await fetch(`${local.url}/2010-04-01/Accounts/${local.accountSid}/Calls.json`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body })).json()) as { code: number }).code;
  t.equal(await raw('From=%2B815000000000&Twiml=x'), 21201);
  t.equal(await raw('To=%2B819011112222&Twiml=x'), 21213);
  t.equal(local.calls().length, 0);
  const wrong = createTwilioClient({ accountSid: local.accountSid, authToken: 'f'.repeat(32), baseUrl: local.url });
  await t.rejects(wrong.calls.create({ to: '+819011112222', from, twiml }), { status: 401, code: 20003 });
});

t.test('a call fetched from Url: TwiML request and Gather action are signed; fetch and list work; the record has every step', async (t) => {
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const recordFile = join(tempDir(t), 'twilio.ndjson');
  const local = await startLocal(clock, recordFile);
  t.teardown(() => local.close());
  const seen: Array<{ path: string; valid: boolean; params: Record<string, string> }> = [];
  const app = newApp();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  let base = '';
  app.post('/*', async (req, reply) => {
    const params = req.body as Record<string, string>;
    const url = `${base}${req.url}`;
    seen.push({ path: req.url, valid: twilio.validateRequest(local.authToken, String(req.headers['x-twilio-signature']), url, params), params });
    if (req.url.startsWith('/twiml')) return reply.type('text/xml').send(`<Response><Gather numDigits="1" action="/pressed?x=1&amp;y=2"><Say language="en-US">Press &amp; hold</Say></Gather></Response>`);
    if (req.url.startsWith('/pressed')) return reply.type('text/xml').send('<Response><Say language="en-US">Thanks</Say></Response>');
    return reply.code(204).send();
  });
  base = await listen(app);
  t.teardown(() => app.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  local.scriptNumber('+819011112222', { answer: 'human', press: '9', afterMs: 3000, pressAfterMs: 1000 });

  const call = await client.calls.create({ to: '+819011112222', from, url: `${base}/twiml`, statusCallback: `${base}/status`, machineDetection: 'Enable' });
  t.match(call.sid, /^CA[0-9a-f]{32}$/);
  t.equal(call.status, 'queued');
  t.equal(call.direction, 'outbound-api');
  clock.advanceBy(100 + 3000 - 1);
  t.equal((await client.calls(call.sid).fetch()).status, 'ringing', 'still ringing before afterMs');
  clock.advanceBy(60_000);
  await until(async () => { await local.settled(); return seen.some((s) => s.path === '/status'); }, 5000, 'the completed callback');
  await local.settled();

  t.same(seen.map((s) => s.path), ['/twiml', '/pressed?x=1&y=2', '/status'], 'default StatusCallbackEvent is completed only; relative action resolved');
  t.ok(seen.every((s) => s.valid), 'twilio-node validates every request');
  t.equal(seen[0]?.params.AnsweredBy, 'human');
  t.equal(seen[0]?.params.CallStatus, 'in-progress');
  t.equal(seen[1]?.params.Digits, '9');
  t.equal(seen[2]?.params.CallStatus, 'completed');
  t.equal(seen[2]?.params.CallDuration, '20');
  const fetched = await client.calls(call.sid).fetch();
  t.equal(fetched.status, 'completed');
  t.equal(fetched.answeredBy, 'human');
  t.equal(fetched.duration, '20');
  t.same(local.calls()[0]?.said, ['Press & hold', 'Thanks']);
  t.same((await client.calls.list({ status: 'completed' })).map((c) => c.sid), [call.sid]);
  await t.rejects(client.calls('CA00000000000000000000000000000000').fetch(), { status: 404, code: 20404 });

  const lines = readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines.map((l) => l.kind), ['call', 'call-status', 'call-status', 'call-status', 'call-twiml', 'gather', 'call-status']);
  t.same(lines.filter((l) => l.kind === 'call-status').map((l) => l.status), ['initiated', 'ringing', 'in-progress', 'completed']);
  t.equal(lines.find((l) => l.kind === 'gather')?.digits, '9');
});

t.test('a TwiML URL that fails is recorded on the call; inbound SMS needs a URL', async (t) => {
  const clock = new VirtualClock(0);
  const local = await startLocal(clock);
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  await client.calls.create({ to: specialCallNumbers.pressOne, from, url: 'http://127.0.0.1:9/nothing' });
  clock.advanceBy(60_000);
  await local.settled();
  t.match(local.calls()[0]?.error, /^11200 HTTP retrieval failure/);
  t.equal(local.calls()[0]?.digits, undefined);
  t.equal(local.calls()[0]?.status, 'completed');
  await t.rejects(local.simulateInboundSms({ from: '+819011112222', to: from, body: '1' }), /no inbound SMS URL/);
});

t.test('readTwiml reads what the callee hears and where a key goes', async (t) => {
  t.same(readTwiml('<Response><Gather action="https://h/x?a=1&amp;b=2" method="get"><Say>A &lt;b&gt; &#26032;</Say></Gather><Say language="en-US">Bye</Say></Response>'), {
    said: ['A <b> 新', 'Bye'], gather: { action: 'https://h/x?a=1&b=2', method: 'GET' }, messages: [],
  });
  t.same(readTwiml('<Response><Message><Body>Hi &amp; bye</Body></Message></Response>'), { said: [], messages: ['Hi & bye'] });
});
