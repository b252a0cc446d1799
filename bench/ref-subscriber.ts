/**
 * The reference's plain MQTT subscriber, for bench/wholepath.ts: a service
 * client of mosquitto (QoS 1, MQTT.js acknowledges each message on receipt)
 * that turns every device event into the same InfluxDB point the hub writes
 * (`readingLine`) and POSTs them as batched line protocol (5,000 lines or
 * every 100 ms) to the same kind of influxd. Reports `{ written }` (points
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
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let lines: string[] = [];
let written = 0;
let writing: Promise<void> = Promise.resolve();

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
function flush(): void {
  if (lines.length === 0) return;
  const batch = lines;
  lines = [];
  writing = writing.then(() => post(batch.join('\n'), batch.length)).catch((err: Error) => { process.stderr.write(`ref-subscriber: ${err.message}\n`); process.exit(4); });
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
  void writing.then(() => client.endAsync()).then(() => process.send?.({ written }, () => process.exit(0)));
});
process.send?.({ ready: true });
