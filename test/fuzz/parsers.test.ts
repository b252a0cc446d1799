/**
 * Property-based fuzzing (fast-check; seeded, bounded in runs and time) of
 * what devices and people send the hub: the device event parser, the SMS
 * reply parser, and raw bytes to a real broker socket.
 */
import t from 'tap';
import fc from 'fast-check';
import { connect as netConnect } from 'node:net';
import { deviceEventSchema, eventKinds, parseDeviceEvent, parseHeartbeat, parseRecordedLine } from '../../core/events.js';
import { parseAckReply } from '../../notifier/ack-parser.js';
import { eventTopic } from '../../core/topics.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { connect, startBroker } from '../broker/helpers.js';

/** Every property: a fixed seed (reproducible), a run count and a time limit. */
const bounded = (numRuns: number) => ({ seed: 20261121, numRuns, interruptAfterTimeLimit: 8000 });
const reasons = new Set(['malformed_json', 'unknown_kind', 'invalid_fields', 'not_an_object', 'ts_in_future', 'ts_too_old']);

t.test('device event parser: any bytes or JSON give a valid event or a named reason, never a throw', async (t) => {
  const payloads = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.string({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    // Near-valid events: a real kind with random extra and missing fields.
    fc.record({ kind: fc.constantFrom(...eventKinds, 'heartbeat', 'KETTLE'), id: fc.oneof(fc.string({ maxLength: 70 }), fc.integer()), ts: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), state: fc.constantFrom('on', 'off', 1, null), watts: fc.double(), flowing: fc.anything(), press: fc.constantFrom('help', 'ok', 'HELP') }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  );
  let accepted = 0;
  fc.assert(fc.property(payloads, (payload) => {
    const r = parseDeviceEvent(payload);
    if (r.ok) { accepted++; return deviceEventSchema.safeParse(r.value).success; }
    return reasons.has(r.reason) && typeof r.detail === 'string';
  }), bounded(3000));
  fc.assert(fc.property(payloads, (payload) => { const r = parseHeartbeat(payload); return r.ok || reasons.has(r.reason); }), bounded(1000));
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (line) => { const r = parseRecordedLine(line); return r.ok || reasons.has(r.reason); }), bounded(1000));
  t.pass(`3000 payloads: ${accepted} valid events, the rest refused with a reason`);
});

t.test('SMS reply parser: any text gives a known kind, never a throw', async (t) => {
  const kinds = new Set(['acknowledge', 'on-my-way', 'unknown']);
  const texts = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('1', '１', '向かいます 20分', '1 k27', 'OK', '着きました', '2 99999999999999999999'));
  const seen = new Set<string>();
  fc.assert(fc.property(texts, (text) => { const r = parseAckReply(text); seen.add(r.kind); return typeof r.kind === 'string'; }), bounded(3000));
  t.ok(seen.has('acknowledge'), `kinds seen: ${[...seen].sort().join(', ')}`);
  t.same([...seen].filter((k) => !kinds.has(k)), [], 'no kind outside the parser\'s vocabulary');
});

t.test('MQTT packet path: random bytes on broker sockets never stop it serving a real device', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'Home', timezone: 'Asia/Tokyo' });
  const device = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'kettle-fuzz', kind: 'kettle' });
  const good = await connect(h.url(), { username: device.username, password: device.secret, clientId: 'kettle-fuzz' });
  t.teardown(() => good.endAsync());
  const port = h.broker.ports.tcp;
  const garbage = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 512 }),
    // A plausible fixed header (any packet type) followed by random bytes.
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 300 })).map(([type, rest]) => Uint8Array.from([type << 4, rest.length & 0x7f, ...rest])),
  );
  let sent = 0;
  await fc.assert(fc.asyncProperty(garbage, async (bytes) => {
    await new Promise<void>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => { s.write(bytes); s.end(); });
      s.setTimeout(2000, () => s.destroy());
      s.on('close', () => resolve());
      s.on('error', () => undefined);
    });
    sent++;
    return true;
  }), bounded(150));
  await good.publishAsync(eventTopic('h1', 'kettle-fuzz'), JSON.stringify({ id: 'k-1', ts: new Date().toISOString(), kind: 'kettle', state: 'on' }), { qos: 1 });
  t.ok(good.connected, `after ${sent} random packets the device is still connected and its publish acknowledged`);
  const again = await connect(h.url(), { username: device.username, password: device.secret, clientId: 'kettle-fuzz-2' });
  t.ok(again.connected, 'and a new login still succeeds');
  await again.endAsync();
});
