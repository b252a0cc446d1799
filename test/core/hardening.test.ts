/** Hardened defaults in core/: rate-limited logging for floods, Secure cookies with an https public URL. */
import t from 'tap';
import { connect as netConnect } from 'node:net';
import { VirtualClock } from '../../core/clock.js';
import { createLogLimiter } from '../../core/log-limiter.js';
import { parseConfig, secureCookiesFor } from '../../core/config.js';
import { captureLogs, startBroker } from '../broker/helpers.js';

const start = Date.parse('2026-11-21T07:00:00+09:00');
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as { msg: string; level: number; suppressed?: number });

t.test('a flood logs 10 lines per kind per minute, then one "suppressed K similar" line', async (t) => {
  const clock = new VirtualClock(start);
  const logs = captureLogs();
  const limited = createLogLimiter({ logger: logs.logger, clock });
  for (let i = 0; i < 25; i++) limited.warn('login refused', { n: i }, 'login refused');
  for (let i = 0; i < 3; i++) limited.warn('oversized packet', { n: i }, 'packet too large');
  let lines = parsed(logs.lines);
  t.equal(lines.filter((l) => l.msg === 'login refused').length, 10, '10 of 25 bad-password lines written');
  t.equal(lines.filter((l) => l.msg === 'packet too large').length, 3, 'another kind counts on its own');
  t.equal(lines.length, 13, 'nothing else yet');
  t.same(limited.suppressed(), { 'login refused': 15 });

  clock.advanceBy(59_999);
  limited.warn('login refused', {}, 'login refused');
  t.equal(parsed(logs.lines).length, 13, 'still the same minute: counted, not written');
  clock.advanceBy(1);
  limited.warn('login refused', {}, 'login refused');
  lines = parsed(logs.lines);
  t.same(lines.slice(13).map((l) => [l.msg, l.suppressed, l.level]), [['suppressed 16 similar: login refused', 16, 40], ['login refused', undefined, 40]], 'the next minute: one summary line, then the line itself');

  for (let i = 0; i < 12; i++) limited.info('dead letter', {}, 'device message refused');
  limited.flush();
  lines = parsed(logs.lines);
  t.same(lines.slice(15).map((l) => l.msg).filter((m) => m.startsWith('suppressed')), ['suppressed 2 similar: device message refused'], 'flush writes what is pending, once');
  t.equal(lines.length, 15 + 10 + 1);
  limited.flush();
  t.equal(parsed(logs.lines).length, 26, 'a second flush writes nothing');
});

t.test('10,000-style flood of oversized MQTT packets: exactly 10 lines and one summary, and the broker keeps serving', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const port = h.broker.ports.tcp;
  const sendOversized = () => new Promise<void>((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => s.write(Buffer.from([0x10, 0xa0, 0x8d, 0x06]))); // CONNECT announcing 100,000 bytes (limit 4096)
    s.on('close', () => resolve());
    s.on('error', () => undefined);
  });
  for (let i = 0; i < 30; i++) await sendOversized();
  t.equal(h.broker.stats().oversizedPackets, 30, '30 oversized packets refused');
  const before = parsed(h.logs.lines).filter((l) => /maxPacketSize|suppressed/.test(l.msg));
  t.equal(before.length, 10, 'only 10 of them logged');
  await h.broker.close();
  const after = parsed(h.logs.lines).filter((l) => /suppressed/.test(l.msg));
  t.same(after.map((l) => [l.msg, l.suppressed]), [['suppressed 20 similar: packet larger than maxPacketSize; connection closed', 20]], 'and one summary line at close');
});

t.test('cookies are Secure whenever the public URL is https', async (t) => {
  const http = (extra: Record<string, unknown>) => parseConfig({ http: extra }).http;
  t.equal(secureCookiesFor(http({})), false, 'plain local default');
  t.equal(secureCookiesFor(http({ publicUrl: 'http://hub.local:8081' })), false, 'an http public URL');
  t.equal(secureCookiesFor(http({ publicUrl: 'https://mimamori.example.jp/' })), true, 'an https public URL turns Secure on');
  t.equal(secureCookiesFor(http({ secureCookies: true })), true, 'or the setting');
});
