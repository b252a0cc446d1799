import t from 'tap';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger.js';
import { createHistoryWriter } from '../../history/history-writer.js';
import { client, startInflux, tempDir } from './fixtures/helpers.js';

t.test('video call quality reports land in InfluxDB, one point per participant', async (t) => {
  const dir = tempDir(t, 'mimamori-callq-');
  const influxd = await startInflux(t, join(dir, 'db'));
  const writer = await createHistoryWriter({ url: influxd.url, database: 'mimamori', bufferDir: join(dir, 'buf'), logger: silentLogger(), flushIntervalMs: 50 });
  t.teardown(() => writer.close());
  const at = Date.parse('2026-11-21T10:00:00+09:00');
  writer.writeCallQuality({ callId: 'c1', homeId: 'h1', role: 'caregiver', durationMs: 61_000, rttMs: 42.5, packetLossPct: 0.4, framesDecoded: 1800, at });
  writer.writeCallQuality({ callId: 'c1', homeId: 'h1', role: 'tablet', durationMs: 61_000, at });
  await writer.flush();
  const rows = await client(influxd.url, 'mimamori').query<{ role: string; rtt_ms: number | null; duration_ms: number; call_id: string }>('SELECT * FROM "call_quality" WHERE "home" = \'h1\'');
  t.equal(rows.length, 2, 'both sides kept (same call, same instant)');
  const caregiver = rows.find((r) => r.role === 'caregiver');
  t.equal(caregiver?.rtt_ms, 42.5);
  t.equal(caregiver?.call_id, 'c1');
  t.equal(rows.find((r) => r.role === 'tablet')?.rtt_ms ?? null, null, 'what was not measured is absent, not zero');
});
