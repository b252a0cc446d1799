import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { ackLinkRoutes, auditLedger, signAckLink, verifyAckLink } from '../../notifier/ack-link.js';
import { createEmailChannel, subjectFor } from '../../notifier/channels/email.js';
import { startLocalSmtp } from '../../notifier/local-smtp-server.js';
import { channelContract, recordingResponder } from './channel-contract.js';
import { newApp } from './helpers.js';

const secret = 's'.repeat(32);
const refuse = (a: string) => a.endsWith('@refused.example');

channelContract(t, 'email (nodemailer → local SMTP server)', async () => {
  const smtp = await startLocalSmtp({ logger: silentLogger(), refuse });
  const channel = createEmailChannel({ smtp: { host: smtp.host, port: smtp.port }, from: 'mimamori@hub.example', logger: silentLogger(), clock: new VirtualClock(0) });
  return {
    channel,
    reachable: { language: 'ja', email: 'taro@family.example' },
    refused: { language: 'ja', email: 'nobody@refused.example' },
    noAddress: { language: 'en', phone: '+819011112222' },
    accepted: () => smtp.messages().length,
    close: async () => { await channel.close?.(); await smtp.close(); },
  };
});

t.test('an alert e-mail in the recipient\'s language, with a signed one-time link that acknowledges once', async (t) => {
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const smtp = await startLocalSmtp({ logger: silentLogger(), auth: { user: 'hub', pass: 'pw' } });
  t.teardown(() => smtp.close());
  const email = createEmailChannel({
    smtp: { host: smtp.host, port: smtp.port, user: 'hub', pass: 'pw' }, from: '見守り <mimamori@hub.example>', logger: silentLogger(), clock,
    ackLinks: { secret, baseUrl: 'https://hub.example/ack', ttlMs: 2 * 3600_000 },
  });
  t.teardown(() => email.close?.());

  const r = await email.send({ to: { id: 'taro', language: 'ja', email: 'taro@family.example' }, text: '【見守り・緊急】山田花子さん: 浴室の水が60分流れたままです\n18:42から動きがありません', alertId: 'alert-9' });
  t.equal(r.status, 'sent');
  t.type(r.providerId, 'string');
  const mail = smtp.messages()[0];
  t.same(mail?.to, ['taro@family.example']);
  t.equal(mail?.subject, '【見守り】山田花子さん: 浴室の水が60分流れたままです', 'first line as subject, one prefix');
  t.match(mail?.text, /^【見守り・緊急】山田花子さん: 浴室の水が60分流れたままです\n18:42から動きがありません\n\n確認した方は、こちらを開いて/);
  t.equal(mail?.headers['content-language'], 'ja');
  const link = /https:\/\/hub\.example\/ack\/(\S+)/.exec(mail?.text ?? '')?.[1] ?? '';
  const check = verifyAckLink(secret, link, clock.now());
  t.ok(check.ok);
  t.same(check.ok && check.claims, { alertId: 'alert-9', contactId: 'taro', language: 'ja', expiresAt: clock.now() + 2 * 3600_000, nonce: check.ok ? check.claims.nonce : '' });

  const en = await email.send({ to: { id: 'ken', language: 'en', email: 'ken@family.example' }, text: 'Bath water running', alertId: 'alert-9' });
  t.equal(en.status, 'sent');
  t.equal(smtp.messages()[1]?.subject, '[Mimamori] Bath water running');
  t.match(smtp.messages()[1]?.text, /If you have seen this, open this link/);

  // The route: GET shows buttons and does nothing; POST acts once.
  const responder = recordingResponder();
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const app = newApp();
  await app.register(ackLinkRoutes, { secret, responder, ledger: auditLedger(store), clock, logger: silentLogger() });
  t.teardown(() => app.close());
  const view = await app.inject({ method: 'GET', url: `/ack/${link}` });
  t.equal(view.statusCode, 200);
  t.match(view.body, /<html lang="ja">.*確認しました（対応します）.*今から向かいます/s);
  t.equal(responder.calls.length, 0, 'opening the link (or a mail scanner prefetching it) acknowledges nothing');
  const post = (token: string, action = 'ack') => app.inject({ method: 'POST', url: `/ack/${token}`, payload: `action=${action}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const first = await post(link);
  t.equal(first.statusCode, 200);
  t.match(first.body, /確認を受け付けました/);
  t.same(responder.calls, [{ action: 'acknowledge', input: { alertId: 'alert-9', contactId: 'taro', via: 'web-link' } }]);
  const again = await post(link);
  t.equal(again.statusCode, 409);
  t.match(again.body, /すでに使われています/);
  t.equal(responder.calls.length, 1, 'a used link is refused');
  t.ok((await store.listAudit()).some((a) => a.action === 'ack-link.used' && (a.detail as { alertId?: string }).alertId === 'alert-9'), 'use recorded in the audit log');
  // The ledger is the store: a new route instance (a restarted hub) still refuses it.
  const app2 = newApp();
  await app2.register(ackLinkRoutes, { secret, responder, ledger: auditLedger(store), clock, logger: silentLogger() });
  t.teardown(() => app2.close());
  t.equal((await app2.inject({ method: 'POST', url: `/ack/${link}`, payload: 'action=ack', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode, 409);

  const omwLink = signAckLink(secret, { alertId: 'alert-9', language: 'en', expiresAt: clock.now() + 1000 });
  const omw = await post(omwLink, 'omw');
  t.match(omw.body, /on your way/);
  t.same(responder.calls.at(-1), { action: 'onMyWay', input: { alertId: 'alert-9', via: 'web-link' } });

  // Two clicks at once: exactly one wins.
  const race = signAckLink(secret, { alertId: 'a-race', language: 'en', expiresAt: clock.now() + 1000 });
  const codes = (await Promise.all([post(race), post(race), post(race)])).map((x) => x.statusCode).sort();
  t.same(codes, [200, 409, 409]);

  clock.advanceBy(2 * 3600_000 + 1);
  const late = signAckLink(secret, { alertId: 'x', language: 'ja', expiresAt: clock.now() - 1 });
  t.equal((await post(late)).statusCode, 410, 'expired');
  t.equal((await app.inject({ method: 'GET', url: `/ack/${late}` })).statusCode, 410);
  const forged = `${link.split('.')[0]}.${'A'.repeat(43)}`;
  t.equal((await post(forged)).statusCode, 403, 'forged signature');
  t.equal((await post('nonsense')).statusCode, 403, 'malformed');
});

t.test('ack links: signature, tampering, expiry, secret length', async (t) => {
  const token = signAckLink(secret, { alertId: 'a1', contactId: 'c1', language: 'en', expiresAt: 1000 });
  t.ok(verifyAckLink(secret, token, 1000).ok, 'valid up to and including expiry');
  t.same(verifyAckLink(secret, token, 1001), { ok: false, reason: 'expired' });
  t.same(verifyAckLink('t'.repeat(32), token, 0), { ok: false, reason: 'bad_signature' });
  const [payload, sig] = token.split('.');
  const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), a: 'a2' })).toString('base64url');
  t.same(verifyAckLink(secret, `${tampered}.${sig}`, 0), { ok: false, reason: 'bad_signature' });
  t.same(verifyAckLink(secret, 'x.y', 0), { ok: false, reason: 'malformed' });
  t.not(signAckLink(secret, { alertId: 'a1', language: 'en', expiresAt: 1 }), signAckLink(secret, { alertId: 'a1', language: 'en', expiresAt: 1 }), 'a fresh nonce per link');
  t.throws(() => signAckLink('short', { alertId: 'a', language: 'ja', expiresAt: 1 }), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('e-mail failures: server down, wrong login, bad address — failed, no throw, no address in the error', async (t) => {
  const smtp = await startLocalSmtp({ logger: silentLogger(), auth: { user: 'hub', pass: 'pw' } });
  const port = smtp.port;
  const wrong = createEmailChannel({ smtp: { host: '127.0.0.1', port, user: 'hub', pass: 'nope' }, from: 'm@hub.example', logger: silentLogger(), clock: new VirtualClock(0) });
  const r = await wrong.send({ to: { language: 'ja', email: 'taro@family.example' }, text: 'x' });
  t.equal(r.status, 'failed');
  t.match(r.error, /^smtp 535/);
  await wrong.close?.();
  const bad = await wrong.send({ to: { language: 'ja', email: 'not an address' }, text: 'x' });
  t.match(bad.error, /malformed/);
  await smtp.close();
  const down = createEmailChannel({ smtp: { host: '127.0.0.1', port }, from: 'm@hub.example', logger: silentLogger(), clock: new VirtualClock(0), timeoutMs: 2000 });
  const d = await down.send({ to: { language: 'ja', email: 'taro@family.example' }, text: 'x' });
  t.equal(d.status, 'failed');
  t.match(d.error, /^cannot reach the mail server: .*ECONNREFUSED/);
  t.notMatch(d.error, /taro@/);
  await down.close?.();
  t.throws(() => createEmailChannel({ smtp: { host: '', port: 25 }, from: 'm@hub.example', logger: silentLogger(), clock: new VirtualClock(0) }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.throws(() => createEmailChannel({ smtp: { host: 'h', port: 25 }, from: 'm@hub.example', logger: silentLogger(), clock: new VirtualClock(0), ackLinks: { secret, baseUrl: '/ack' } }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.equal(subjectFor({ to: { language: 'en' }, text: 'y'.repeat(100) }).length, '[Mimamori] '.length + 60);
  t.equal(subjectFor({ to: { language: 'ja' }, text: 'x', subject: '毎日のお知らせ' }), '【見守り】毎日のお知らせ');
});
