import t from 'tap';
import { readdirSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { isMimamoriError } from '../../core/errors.js';
import type { HomeEvent } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createHistoryWriter, type HistoryWriterOptions } from '../../history/history-writer.js';
import { baseTime, captureLogger, client, countPoints, deadUrl, motion, readings, startInflux, tempDir, until, type Teardown } from './fixtures/helpers.js';

const database = 'mimamori';

/** A writer whose timers only move when the test says (so nothing flushes or retries by itself). */
async function writer(t: Teardown, opts: Partial<HistoryWriterOptions> & { url: string }) {
  const clock = new VirtualClock(baseTime);
  const w = await createHistoryWriter({ database, bufferDir: tempDir(t), logger: silentLogger(), clock, ...opts });
  t.teardown(() => w.close());
  return { w, clock };
}


const finding: Finding = {
  home: 'home-1', rule: 'no-sign-of-life', type: 'noSignOfLife', state: 'raised', severity: 'critical', audience: 'family', at: baseTime + 5,
  message: { en: 'No sign of life since 07:00', ja: '07:00 から生活反応がありません' },
  expected: { en: 'activity by 09:00', ja: '09:00 までに活動' }, observed: { en: 'none, "quiet"\nall morning', ja: 'なし' },
  data: { minutes: 120, lastDevice: 'pir-1' },
};

t.test('readings, findings, alerts and notifications arrive and read back', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const { w } = await writer(t, { url: influxd.url });
  const kettle: HomeEvent = { kind: 'kettle', id: 'k-1', ts: '', state: 'on', watts: 1200.5, home: 'home-1', device: 'kettle-1', at: baseTime + 1 };
  const door: HomeEvent = { kind: 'door', id: 'd-1', ts: '', open: true, door: 'front door', home: 'home-1', device: 'door-1', at: baseTime + 2 };
  w.writeReading(kettle);
  w.writeReading(door);
  w.writeReading({ kind: 'heartbeat', home: 'home-1', device: 'kettle-1', at: baseTime + 3, battery: 87 });
  w.writeReading({ kind: 'heartbeat', home: 'home-1', device: 'door-1', at: baseTime + 3 });
  w.writeFinding(finding);
  w.writeAlert({ id: 'alert-1', homeId: 'home-1', rule: 'no-sign-of-life', severity: 'critical', status: 'open', at: baseTime + 6 });
  w.writeNotification({ alertId: 'alert-1', homeId: 'home-1', channel: 'sms', status: 'sent', at: baseTime + 7 });
  t.equal(w.stats().pendingInMemory, 7, 'queued, not yet written');
  await w.flush();
  t.match(w.stats(), { written: 7, buffered: 0, failures: 0, pendingInMemory: 0, rejected: 0 });

  const influx = client(influxd.url, database);
  const events = await influx.query<Record<string, unknown> & { time: Date }>('SELECT * FROM "raw"."event" ORDER BY time');
  t.equal(events.length, 2);
  t.match(events[0], { home: 'home-1', device: 'kettle-1', kind: 'kettle', id: 'k-1', state: 'on', watts: 1200.5 });
  t.equal(events[0]!.time.getTime(), kettle.at, 'time is the event time (ms)');
  t.match(events[1], { kind: 'door', open: true, door: 'front door' });
  const heartbeats = await influx.query<Record<string, unknown>>('SELECT * FROM "raw"."heartbeat"');
  t.equal(heartbeats.length, 2);
  t.match(heartbeats.find((h) => h.device === 'kettle-1'), { battery: 87, seen: true });
  const findings = await influx.query<Record<string, unknown>>('SELECT * FROM "raw"."finding"');
  t.match(findings[0], { home: 'home-1', rule: 'no-sign-of-life', state: 'raised', severity: 'critical', audience: 'family', message_ja: '07:00 から生活反応がありません', observed_en: 'none, "quiet" all morning' });
  t.same(JSON.parse(String(findings[0]?.data)), finding.data);
  t.match((await influx.query('SELECT * FROM "raw"."alert"'))[0], { id: 'alert-1', status: 'open', severity: 'critical' });
  t.match((await influx.query('SELECT * FROM "raw"."notification"'))[0], { alert_id: 'alert-1', channel: 'sms', status: 'sent' });
});

t.test('the same event twice is one point; two events of one device in the same millisecond are two', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const { w } = await writer(t, { url: influxd.url });
  const a = motion(0);
  w.writeReading(a);
  w.writeReading(a);
  await w.flush();
  w.writeReading({ ...a }); // re-delivered later
  w.writeReading({ ...a, id: 'other-event', occupied: false }); // same device, same ms, different event
  await w.flush();
  const influx = client(influxd.url, database);
  t.equal(await countPoints(influx, 'event', 'id'), 2);
  const ids = (await influx.query<{ id: string }>('SELECT "id" FROM "raw"."event"')).map((r) => r.id).sort();
  t.same(ids, ['m-0', 'other-event']);
  const times = await influx.query<{ time: Date }>('SELECT "id" FROM "raw"."event"');
  t.ok(times.every((r) => r.time.getTime() === a.at), 'both at the event\'s millisecond');
});

t.test('a full batch is written without waiting; the interval flushes the rest', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const { w, clock } = await writer(t, { url: influxd.url, batchSize: 10, flushIntervalMs: 500 });
  for (const r of readings(25)) w.writeReading(r);
  await until(() => w.stats().written === 20, 10_000, 'two full batches');
  t.equal(w.stats().pendingInMemory, 5, 'the partial batch waits for the interval');
  clock.advanceBy(499);
  t.equal(w.stats().pendingInMemory, 5, 'not before the interval');
  clock.advanceBy(1);
  await until(() => w.stats().written === 25, 10_000, 'interval flush');
  t.equal(await countPoints(client(influxd.url, database), 'event', 'id'), 25);
});

t.test('two writes are under way at once; a third waits for one of them', async (t) => {
  // A pass-through in front of the real influxd that holds each write until a second one is
  // under way beside it: with one write at a time it would hold the first for ever.
  const influxd = await startInflux(t, tempDir(t));
  const target = new URL(influxd.url);
  let open = 0, most = 0;
  const held: Array<() => void> = [];
  const proxy = createServer((req, res) => {
    open++;
    most = Math.max(most, open);
    const forward = () => {
      const up = httpRequest({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('end', () => { open--; });
      });
      req.pipe(up);
    };
    if (req.url?.startsWith('/write') !== true) { forward(); return; }
    held.push(forward);
    if (held.length >= 2) for (const go of held.splice(0)) go();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const { w } = await writer(t, { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, batchSize: 10 });
  for (const r of readings(40)) w.writeReading(r);
  await until(() => w.stats().written === 40, 20_000, 'four batches, two at a time');
  t.equal(most, 2, 'two writes were under way together, never three');
  t.equal(await countPoints(client(influxd.url, database), 'event', 'id'), 40, 'every point once');
});

t.test('a bad point is isolated, logged and counted; the rest of its batch arrives', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const { logger, lines } = captureLogger();
  const { w } = await writer(t, { url: influxd.url, logger });
  const power = (i: number, watts: unknown) => ({ kind: 'power', id: `p-${i}`, ts: '', watts, home: 'home-1', device: 'meter-1', at: baseTime + i }) as HomeEvent;
  w.writeReading(power(0, 100));
  await w.flush(); // `watts` is now a float field
  for (let i = 1; i <= 40; i++) w.writeReading(power(i, i === 17 ? 'a lot' : i * 10)); // an untyped source slipped a string in
  await w.flush();
  t.equal(await countPoints(client(influxd.url, database), 'event', 'id'), 40, '40 good points of 41');
  t.match(w.stats(), { written: 40, rejected: 1, buffered: 0 });
  const log = lines.find((l) => /refused a history point/.test(String(l.msg)));
  t.ok(log, 'logged');
  t.match(log, { point: { id: 'p-17', series: 'event,device=meter-1,home=home-1,kind=power' }, reason: /field type conflict/ });
});

t.test('outage: points wait on disk while InfluxDB is down and arrive exactly once when it is back', async (t) => {
  const dataDir = tempDir(t);
  const first = await startInflux(t, dataDir);
  const { logger, lines } = captureLogger();
  const { w, clock } = await writer(t, { url: first.url, logger, batchSize: 50, retryInitialMs: 1000 });
  const all = readings(300);
  for (const r of all.slice(0, 100)) w.writeReading(r);
  await w.flush();
  t.equal(w.stats().written, 100);

  await first.close();
  for (const r of all.slice(100, 250)) w.writeReading(r);
  await w.flush();
  t.match(w.stats(), { buffered: 150, pendingInMemory: 0 }, 'everything durably on disk');
  t.ok(w.stats().failures > 0);
  t.ok(w.stats().bufferBytes > 0);
  t.ok(lines.some((l) => l.level === 40 && /InfluxDB unavailable/.test(String(l.msg))), 'outage logged once as a warning');
  // Writing during the outage never throws and never waits.
  for (const r of all.slice(250)) w.writeReading(r);
  await w.flush();
  t.equal(w.stats().buffered, 200);

  const second = await startInflux(t, dataDir, Number(new URL(first.url).port));
  // The retry loop drains by itself once its backoff timer fires.
  clock.advanceBy(60_000);
  await until(() => w.stats().buffered === 0, 10_000, 'retry loop to drain the buffer');
  const influx = client(second.url, database);
  t.equal(await countPoints(influx, 'event', 'id'), 300, 'every point exactly once');
  const ids = new Set((await influx.query<{ id: string }>('SELECT "id" FROM "raw"."event"')).map((r) => r.id));
  t.equal(ids.size, 300);
  t.ok(lines.some((l) => /reachable again/.test(String(l.msg))), 'recovery logged');
  // After the drain, new points go straight to InfluxDB again.
  w.writeReading(motion(1000));
  await w.flush();
  t.equal(w.stats().buffered, 0);
  t.equal(await countPoints(influx, 'event', 'id'), 301);
});

t.test('flush() drains the disk buffer as soon as InfluxDB is back', async (t) => {
  const dataDir = tempDir(t);
  const first = await startInflux(t, dataDir);
  const { w } = await writer(t, { url: first.url });
  await first.close();
  for (const r of readings(20)) w.writeReading(r);
  await w.flush();
  t.equal(w.stats().buffered, 20);
  const second = await startInflux(t, dataDir, Number(new URL(first.url).port));
  await w.flush();
  t.equal(w.stats().buffered, 0);
  t.equal(await countPoints(client(second.url, database), 'event', 'id'), 20);
});

t.test('the disk buffer survives a writer restart and drains into the next writer', async (t) => {
  const bufferDir = tempDir(t);
  const down = await createHistoryWriter({ url: await deadUrl(), database, bufferDir, logger: silentLogger(), clock: new VirtualClock(baseTime) });
  for (const r of readings(120)) down.writeReading(r);
  await down.close(); // InfluxDB unreachable: close puts the queue on disk
  t.equal(down.stats().buffered, 120);
  t.ok(readdirSync(bufferDir).some((f) => f.endsWith('.lp')), 'segment files on disk');
  down.writeReading(motion(999));
  t.equal(down.stats().dropped, 1, 'a write after close is counted as dropped, not thrown');

  const influxd = await startInflux(t, tempDir(t));
  const up = await createHistoryWriter({ url: influxd.url, database, bufferDir, logger: silentLogger(), clock: new VirtualClock(baseTime) });
  t.teardown(() => up.close());
  t.equal(up.stats().buffered, 120, 'found on start');
  await up.flush();
  t.equal(up.stats().buffered, 0);
  t.equal(await countPoints(client(influxd.url, database), 'event', 'id'), 120, 'exactly once');
  t.same(readdirSync(bufferDir), [], 'drained segments deleted');
});

t.test('a database dropped behind the writer\'s back is re-created', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const { w } = await writer(t, { url: influxd.url });
  w.writeReading(motion(1));
  await w.flush();
  const influx = client(influxd.url, database);
  await influx.dropDatabase(database);
  w.writeReading(motion(2));
  await w.flush(); // 404 database not found: buffered, schema re-ensured, drained
  t.equal(w.stats().buffered, 0);
  t.equal(await countPoints(influx, 'event', 'id'), 1);
  t.same((await influx.showRetentionPolicies(database)).map((r) => r.name).sort(), ['autogen', 'raw', 'rollup']);
});

t.test('bad options are refused with MIMAMORI_ERR_CONFIG', async (t) => {
  const err = await createHistoryWriter({ url: 'not a url', database, bufferDir: tempDir(t), logger: silentLogger() }).then(() => undefined, (e: unknown) => e);
  t.ok(isMimamoriError(err, 'MIMAMORI_ERR_CONFIG'));
  t.match((err as Error).message, /url/);
  const err2 = await createHistoryWriter({ url: 'http://127.0.0.1:1', database, bufferDir: join(tempDir(t), 'b'), logger: silentLogger(), batchSize: 0 }).then(() => undefined, (e: unknown) => e);
  t.ok(isMimamoriError(err2, 'MIMAMORI_ERR_CONFIG'));
  for (const writesInFlight of [0, 9, 1.5]) {
    const bad = await createHistoryWriter({ url: 'http://127.0.0.1:1', database, bufferDir: join(tempDir(t), 'c'), logger: silentLogger(), writesInFlight }).then(() => undefined, (e: unknown) => e);
    t.ok(isMimamoriError(bad, 'MIMAMORI_ERR_CONFIG'), `writesInFlight ${writesInFlight} is refused`);
  }
});
