/**
 * A real history for tests that read it back: a managed influxd child under
 * `dir`, the schema the hub makes, the hub's history writer and an influx
 * client on the `mimamori` database; all stopped when the test ends.
 */
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { silentLogger } from '../../core/logger.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { createHistoryWriter, type HistoryWriter } from '../../history/history-writer.js';
import { ensureSchema } from '../../history/influx-schema.js';
import type { Teardown } from './wait.js';

export async function realHistory(t: Teardown, dir: string): Promise<{ influx: InfluxDB; writer: HistoryWriter; url: string }> {
  const influxd = await startManagedInfluxd({ dataDir: join(dir, 'db'), logger: silentLogger() });
  t.teardown(() => influxd.close());
  const u = new URL(influxd.url);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database: 'mimamori' });
  await ensureSchema(influx, 'mimamori');
  const writer = await createHistoryWriter({ url: influxd.url, database: 'mimamori', bufferDir: join(dir, 'buf'), logger: silentLogger() });
  t.teardown(() => writer.close());
  return { influx, writer, url: influxd.url };
}
