/**
 * Property-based fuzzing (fast-check; seeded, bounded in runs and time) of
 * what people and services send the web side of the hub (issue 15): Twilio's
 * webhooks with valid signatures and random parameters, e-mail
 * acknowledgement links with random tokens and actions, and every form of
 * the web app with a signed-in operator's session and a valid CSRF token.
 * Never a 500, never a crash; the app still serves afterwards.
 */
import t from 'tap';
import fc from 'fast-check';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { ackLinkRoutes, auditLedger, signAckLink, verifyAckLink } from '../../notifier/ack-link.js';
import { signTwilioRequest } from '../../notifier/twilio-signature.js';
import { twilioWebhooks } from '../../notifier/twilio-webhooks.js';
import { parseEscalationPolicy } from '../../notifier/escalation-policy.js';
import { recordingResponder } from '../notifier/channel-contract.js';
import { listen, newApp } from '../notifier/helpers.js';
import { setup, signIn } from '../dashboards/helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every property: a fixed seed (reproducible), a run count and a time limit. */
const bounded = (numRuns: number) => ({ seed: 20261202, numRuns, interruptAfterTimeLimit: 8000 });

/** Form fields as people and bots send them: known names with odd values, and random names. */
const fieldName = fc.oneof(
  fc.constantFrom('Body', 'From', 'To', 'MessageSid', 'CallSid', 'CallStatus', 'Digits', 'SpeechResult', 'MessageStatus', 'ErrorCode',
    'action', 'eta', 'id', 'name', 'timezone', 'phone', 'email', 'role', 'priority', 'language', 'body', 'login', 'password', 'level', 'photos',
    'from', 'to', 'until', 'reason', 'kind', 'device', 'room', 'policy', 'channels', 'quietFrom', 'quietTo', 'digestTime', 'answer', 'note'),
  fc.string({ minLength: 1, maxLength: 12 }),
);
const fieldValue = fc.oneof(
  fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.integer().map(String),
  fc.constantFrom('', '1', '2 20', '了解', '+819011112222', '090-1234-5678', 'Asia/Tokyo', 'Nowhere/Zone', '2300-01-01T00:00:00Z', 'completed', 'failed', '<script>x</script>', '{"a":', 'ja', 'en', 'on', 'critical', 'x'.repeat(5000)),
);
const formBody = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 });
const encode = (fields: ReadonlyArray<readonly [string, string]>) => new URLSearchParams(fields.map(([k, v]): [string, string] => [k, v])).toString();

t.test('Twilio webhooks: any signed parameters get an answer, never a 500', async (t) => {
  const authToken = 'fuzz-token-'.padEnd(32, 'x');
  const responder = recordingResponder({ '+819011112222': { alertId: 'a1', contactId: 'taro' } });
  const app = newApp();
  await app.register(twilioWebhooks, { authToken, responder, logger: silentLogger(), receipts: { handleStatusCallback: async () => undefined } });
  const base = await listen(app);
  t.teardown(() => app.close());
  const paths = ['/twilio/sms', '/twilio/voice/gather', '/twilio/voice/status'];
  const statuses = new Map<number, number>();
  await fc.assert(fc.asyncProperty(fc.constantFrom(...paths), formBody, fc.boolean(), async (path, fields, signed) => {
    const url = `${base}${path}`;
    const params: Record<string, string> = {};
    for (const [k, v] of fields) params[k] = v;
    const body = encode(Object.entries(params));
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (signed) headers['x-twilio-signature'] = signTwilioRequest(authToken, url, params);
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    return res.status < 500 && (signed || res.status === 403);
  }), bounded(300));
  t.ok((statuses.get(200) ?? 0) > 0, `answered: ${JSON.stringify(Object.fromEntries(statuses))}`);
  t.ok((statuses.get(403) ?? 0) > 0, 'unsigned requests refused');
});

t.test('e-mail acknowledgement links: any token and action get a page, never a 500', async (t) => {
  const secret = 's'.repeat(32);
  const clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-fuzz-ack-'));
  const store = createSqliteStore(join(dir, 'ack.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const responder = recordingResponder();
  const app = newApp();
  await app.register(ackLinkRoutes, { secret, responder, ledger: auditLedger(store), clock, logger: silentLogger() });
  t.teardown(() => app.close());
  const good = signAckLink(secret, { alertId: 'alert-9', contactId: 'taro', expiresAt: clock.now() + 3_600_000, language: 'ja' });
  const tokens = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.base64String({ maxLength: 200 }),
    // A real token with one character changed or cut out (replacing a character by itself is no alteration).
    fc.tuple(fc.nat({ max: good.length - 1 }), fc.constantFrom('A', '_', '-', '.', '')).map(([i, c]) => good.slice(0, i) + c + good.slice(i + 1)).filter((x) => x !== good),
  );
  fc.assert(fc.property(tokens, (token) => typeof verifyAckLink(secret, token, clock.now()).ok === 'boolean'), bounded(2000));
  await fc.assert(fc.asyncProperty(tokens, fc.constantFrom('GET', 'POST'), formBody, async (token, method, fields) => {
    const res = await app.inject({ method: method as 'GET' | 'POST', url: `/ack/${encodeURIComponent(token)}`, ...(method === 'POST' ? { payload: encode(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
    return res.statusCode < 500;
  }), bounded(400));
  t.equal(responder.calls.length, 0, 'no altered token acknowledged anything');
});

t.test('every web form: random fields with a valid session and CSRF token never give a 500', async (t) => {
  // The escalation editor with the real policy parser behind it (the hub's port does the same).
  const saved = new Map<string, unknown>();
  const f = await setup({
    escalation: {
      get: async (home: string) => saved.get(home),
      set: async (home: string, policy: unknown) => {
        const parsed = parseEscalationPolicy(policy);
        if (!parsed.ok) return { errors: parsed.errors };
        saved.set(home, parsed.policy);
        return { errors: [] };
      },
    },
  });
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const fam = await signIn(f, 'guardian1');
  // Signing out or revoking one's own session would end the run's session: those are tried last.
  const skip = new Set(['/signout', '/signin', '/signin/totp']);
  const forms = f.web.routes.filter((r) => r.method === 'POST' && !skip.has(r.url));
  t.ok(forms.length >= 20, `${forms.length} form routes`);
  const fill = (url: string, id: string) => url.replace(/:home\b/g, 'h1').replace(/:(\w+)/g, () => id);
  const ids = fc.oneof(fc.constantFrom(f.ids.alert1, f.ids.alert2, f.ids.news1, f.ids.question2, 'h1', 'h2', 'op', 'family1', 'missing'), fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent));
  let served = 0;
  await fc.assert(fc.asyncProperty(fc.constantFrom(...forms), ids, formBody, fc.boolean(), async (route, id, fields, asOperator) => {
    const s = asOperator ? op : fam;
    const res = await f.web.app.inject({
      method: 'POST', url: fill(route.url, id),
      headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: encode([['_csrf', s.csrf], ...fields]),
    });
    served++;
    if (res.statusCode >= 500) t.comment(`${route.url} → ${res.statusCode}: ${res.body.slice(0, 200)}`);
    return res.statusCode < 500;
  }), bounded(600));
  t.ok(served > 0, `${served} form posts`);
  // Still serving: the sign-in page, and the operator's own page.
  t.equal((await f.web.app.inject({ method: 'GET', url: '/signin' })).statusCode, 200);
  const after = await f.web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: op.cookie } });
  t.ok(after.statusCode === 200 || after.statusCode === 303, `operator page after the run: ${after.statusCode}`);
  // The sign-in forms without a session: random credentials are refused, never a 500.
  await fc.assert(fc.asyncProperty(fc.constantFrom('/signin', '/signin/totp', '/signout'), formBody, async (url, fields) => {
    const res = await f.web.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: encode(fields) });
    return res.statusCode < 500;
  }), bounded(200));
});
