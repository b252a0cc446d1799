/**
 * The reference's plain MQTT subscriber, for bench/wholepath.ts: a service
 * client of mosquitto (QoS 1, MQTT.js acknowledges each message on receipt)
 * that turns every device event into the same InfluxDB point the hub writes
 * (`readingLine`) and POSTs them as batched line protocol (5,000 lines or
 * every 100 ms, two batches under way as the hub's history writer keeps them)
 * to the same kind of influxd. Reports `{ written }` (points
 * InfluxDB accepted) over IPC every 250 ms; exits on a `stop` message.
 *   node ref-subscriber.js MQTT_URL USERNAME PASSWORD INFLUX_URL DATABASE
 */
import { Agent, request } from 'node:http';
import mqtt from 'mqtt';
import { allEventsFilter, parseDeviceTopic } from '../core/topics.js';
import { readingLine } from '../history/index.js';
import type { Reading } from '../core/events.js';

const [mqttUrl, username, password, influxUrl, database] = process.argv.slice(2) as [string, string, string, string, string];
const influx = new URL(influxUrl);
/** Writes under way at once: as many as the hub's history writer keeps (its default `writesInFlight`). */
const writesInFlight = 2;
const agent = new Agent({ keepAlive: true, maxSockets: writesInFlight });
let lines: string[] = [];
let written = 0;
const under = new Set<Promise<void>>();
/** Batches waiting for a free write, oldest first. */
const queued: Array<{ body: string; count: number }> = [];

function post(body: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: influx.hostname, port: influx.port, path: `/write?db=${database}&precision=n`, method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 204) { written += count; resolve(); } else reject(new Error(`influx answered ${res.statusCode}`)); });
    });
    req.on('error', reject);
    req.end(body);
  });
}
function next(): void {
  while (under.size < writesInFlight && queued.length > 0) {
    const { body, count } = queued.shift()!;
    const write = post(body, count).catch((err: Error) => { process.stderr.write(`ref-subscriber: ${err.message}\n`); process.exit(4); });
    under.add(write);
    void write.then(() => { under.delete(write); next(); });
  }
}
function flush(): void {
  if (lines.length === 0) return;
  const batch = lines;
  lines = [];
  queued.push({ body: batch.join('\n'), count: batch.length });
  next();
}
/** Resolves when every batch queued so far is written. */
async function settled(): Promise<void> {
  while (under.size > 0 || queued.length > 0) await Promise.race(under);
}

const client = await mqtt.connectAsync(mqttUrl, { username, password, clientId: 'bench-ref-subscriber', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
client.on('message', (topic, payload) => {
  const where = parseDeviceTopic(topic);
  if (!where) return;
  const e = JSON.parse(payload.toString('utf8')) as { id: string; ts: string; kind: 'power'; watts: number };
  const reading: Reading = { ...e, home: where.home, device: where.device, at: Date.parse(e.ts) };
  lines.push(readingLine(reading));
  if (lines.length >= 5000) flush();
});
await client.subscribeAsync(allEventsFilter, { qos: 1 });
const flushTimer = setInterval(flush, 100);
const reportTimer = setInterval(() => process.send?.({ written }), 250);
process.on('message', (m: { stop?: boolean }) => {
  if (!m.stop) return;
  clearInterval(flushTimer);
  clearInterval(reportTimer);
  flush();
  void settled().then(() => client.endAsync()).then(() => process.send?.({ written }, () => process.exit(0)));
});
process.send?.({ ready: true });
