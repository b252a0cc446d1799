import { createServer } from 'node:net';
import { statSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Level } from 'level';
import t from 'tap';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../core/store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { commandTopic, eventTopic, heartbeatTopic, allEventsFilter } from '../../core/topics.js';
import { provisionDevice, provisionService } from '../../broker/device-credentials.js';
import { createBroker } from '../../broker/index.js';
import { certificateSerial } from '../../broker/tls.js';
import { systemClock } from '../../core/clock.js';
import { closed, connect, inbox, startBroker, ts, until, type Harness } from './helpers.js';
import { tempDir } from '../support/wait.js';

async function withDevices(h: Harness) {
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  await h.store.createHome({ id: 'h2', name: 'home two', timezone: 'Asia/Tokyo' });
  const kettle = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  const door = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'door', kind: 'door' });
  const other = await provisionDevice(h.store, { homeId: 'h2', deviceId: 'kettle', kind: 'kettle' });
  const svc = await provisionService(h.store, 'watcher');
  return { kettle, door, other, svc };
}

t.test('a provisioned device connects over TCP, TLS and WebSocket', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle } = await withDevices(h);
  const auth = { username: kettle.username, password: kettle.secret };

  const tcp = await connect(h.url('tcp'), auth);
  t.ok(tcp.connected, 'tcp');
  const tls = await connect(`mqtts://127.0.0.1:${h.broker.ports.tls}`, { ...auth, ca: h.broker.caCert, rejectUnauthorized: true });
  t.ok(tls.connected, 'tls, trusting the generated CA');
  const ws = await connect(h.url('ws'), auth);
  t.ok(ws.connected, 'websocket at /mqtt');
  await t.rejects(connect(`mqtts://127.0.0.1:${h.broker.ports.tls}`, { ...auth, rejectUnauthorized: true }), 'TLS without the CA is not trusted');
  t.equal(h.broker.stats().clients, 3);
  await Promise.all([tcp, tls, ws].map((c) => c.endAsync()));

  const dir = join(h.dataDir, 'tls');
  t.equal(statSync(join(dir, 'server-key.pem')).mode & 0o777, 0o600, 'server key is private');
  t.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), h.broker.caCert);
  const cert = readFileSync(join(dir, 'server.pem'), 'utf8');
  await h.restart();
  t.equal(readFileSync(join(dir, 'server.pem'), 'utf8'), cert, 'certificate reused on the next start');
  const again = await connect(`mqtts://127.0.0.1:${h.broker.ports.tls}`, { ...auth, ca: h.broker.caCert });
  t.ok(again.connected);
  await again.endAsync();
});

t.test('certificate serials are always a minimal positive INTEGER, and a stored certificate OpenSSL cannot read is reissued', async (t) => {
  // forge drops at most one leading zero of the serial; OpenSSL 3 refuses the rest ("illegal padding").
  t.equal(certificateSerial(Buffer.alloc(16)), '01' + '00'.repeat(15), 'all-zero random bytes');
  t.equal(certificateSerial(Buffer.alloc(16, 0xff)), '7f' + 'ff'.repeat(15), 'never negative');
  t.equal(certificateSerial(Buffer.from('80' + '00'.repeat(15), 'hex')), '01' + '00'.repeat(15), 'a first byte of 0x80 is not zero after the sign bit goes');

  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle } = await withDevices(h);
  const dir = join(h.dataDir, 'tls');
  const caKey = forge.pki.privateKeyFromPem(readFileSync(join(dir, 'ca-key.pem'), 'utf8')) as forge.pki.rsa.PrivateKey;
  // What the old serial made once in 65,536 certificates: two zero bytes, then one below 0x80.
  const paddedSerial = (subject: forge.pki.CertificateField[], key: forge.pki.rsa.PrivateKey, issuer = subject) => {
    const c = forge.pki.createCertificate();
    c.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    c.serialNumber = '000012' + '34'.repeat(13);
    c.validity.notBefore = new Date(h.clock.now() - 24 * 3600_000);
    c.validity.notAfter = new Date(h.clock.now() + 400 * 24 * 3600_000);
    c.setSubject(subject);
    c.setIssuer(issuer);
    if (subject === issuer) c.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true }]);
    c.sign(caKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(c);
  };
  const mqtts = () => connect(`mqtts://127.0.0.1:${h.broker.ports.tls}`, { username: kettle.username, password: kettle.secret, ca: h.broker.caCert, rejectUnauthorized: true });

  const caSubject = forge.pki.certificateFromPem(h.broker.caCert).subject.attributes;
  const serverKey = forge.pki.privateKeyFromPem(readFileSync(join(dir, 'server-key.pem'), 'utf8')) as forge.pki.rsa.PrivateKey;
  const badServer = paddedSerial([{ name: 'commonName', value: 'localhost' }], serverKey, caSubject);
  t.throws(() => new X509Certificate(badServer), /illegal padding/, 'OpenSSL refuses such a certificate');
  writeFileSync(join(dir, 'server.pem'), badServer);
  await h.restart();
  t.not(readFileSync(join(dir, 'server.pem'), 'utf8'), badServer, 'a stored server certificate like that is reissued, not loaded');
  const caBefore = h.broker.caCert;
  const first = await mqtts();
  t.ok(first.connected, 'devices trusting the same CA connect');
  await first.endAsync();

  // A CA like that: forge signs with it, but no device's OpenSSL could ever trust it.
  const badCa = paddedSerial(caSubject, caKey);
  writeFileSync(join(dir, 'ca.pem'), badCa);
  await h.restart();
  t.not(h.broker.caCert, badCa, 'a new CA');
  t.not(h.broker.caCert, caBefore);
  t.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), h.broker.caCert);
  const second = await mqtts();
  t.ok(second.connected, 'and a server certificate it signed, which devices given the new CA trust');
  await second.endAsync();
});

t.test('wrong password, unknown device and malformed username are refused; secrets never logged', async (t) => {
  const h = await startBroker({ lockout: { maxFailures: 10, windowMs: 60_000, lockMs: 60_000 } });
  t.teardown(() => h.close());
  const { kettle } = await withDevices(h);
  await t.rejects(connect(h.url(), { username: kettle.username, password: 'wrong-secret-value' }), /Bad username or password/i);
  await t.rejects(connect(h.url(), { username: 'h1/ghost', password: kettle.secret }), /Bad username or password/i);
  await t.rejects(connect(h.url(), { username: 'kettle', password: kettle.secret }), /Bad username or password/i);
  await t.rejects(connect(h.url()), /Bad username or password/i, 'anonymous');
  t.equal(h.broker.stats().authFailures, 4);
  const log = h.logs.lines.join('');
  t.notOk(log.includes(kettle.secret), 'secret not in logs');
  t.notOk(log.includes('wrong-secret-value'), 'attempted password not in logs');
  t.match(log, /"reason":"unknown_user"/);
  t.match(log, /"reason":"bad_secret"/);
});

t.test("a flood of wrong passwords for the help button's client id from another address never locks the button out", async (t) => {
  const h = await startBroker({ lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 } });
  t.teardown(() => h.close());
  const { kettle } = await withDevices(h);
  const button = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'help-button', kind: 'button' });
  const svc = await provisionService(h.store, 'watcher');
  const ingest = await connect(h.url(), { username: svc.username, password: svc.secret });
  const seen = inbox(ingest);
  await ingest.subscribeAsync(eventTopic('h1', '+'), { qos: 1 });

  // The attacker at 127.0.0.2 floods the button's client id with wrong passwords.
  const refusals: string[] = [];
  for (let i = 0; i < 10; i++) {
    await connect(h.url(), { from: '127.0.0.2', clientId: 'h1/help-button', username: button.username, password: `guess-${i}` })
      .then(() => t.fail('a wrong password must not connect'), (err: Error) => refusals.push(/Not authorized/i.test(err.message) ? 'backoff' : 'bad'));
  }
  t.same(refusals, [...Array(3).fill('bad'), ...Array(7).fill('backoff')], '3 checked and refused, then 7 refused unchecked');
  await t.rejects(connect(h.url(), { from: '127.0.0.2', clientId: 'h1/help-button', username: button.username, password: button.secret }), /Not authorized/i,
    'even the right secret waits out the back-off from the failing address');

  // The real button at 127.0.0.1 connects at once and is heard.
  const real = await connect(h.url(), { clientId: 'h1/help-button', username: button.username, password: button.secret });
  t.ok(real.connected, 'the real button connects at once from its own address');
  await real.publishAsync(eventTopic('h1', 'help-button'), JSON.stringify({ id: 'press-1', ts, kind: 'button', press: 'help' }), { qos: 1 });
  await seen.waitFor(1);
  t.same(seen.messages.map((m) => m.topic), [eventTopic('h1', 'help-button')], 'its help press is delivered');
  await real.endAsync();

  // Failures for one device's client id from an address do not lock the other devices behind it.
  for (let i = 0; i < 4; i++) await t.rejects(connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: 'nope' }));
  await t.rejects(connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret }), /Not authorized/i, 'the failing pair waits');
  const again = await connect(h.url(), { clientId: 'h1/help-button', username: button.username, password: button.secret });
  t.ok(again.connected, 'another device behind the same address is not locked');
  await again.endAsync();

  const stats = h.broker.stats();
  t.equal(stats.authFailures, 3 + 3, '3 button guesses and 3 kettle failures were checked');
  t.equal(stats.lockouts, 2, 'two pairs put on back-off: (h1/help-button, 127.0.0.2) and (h1/kettle, 127.0.0.1)');
  t.equal(stats.lockedOutLogins, 7 + 1 + 1 + 1, 'refused unchecked: 7 guesses, the right secret from 127.0.0.2, the 4th kettle failure, the kettle secret');
  t.equal(stats.delayedLogins, 0);

  h.clock.advanceBy(299_999);
  await t.rejects(connect(h.url(), { from: '127.0.0.2', clientId: 'h1/help-button', username: button.username, password: button.secret }), /Not authorized/i, 'still waiting 1 ms before lockMs');
  h.clock.advanceBy(1);
  const later = await connect(h.url(), { from: '127.0.0.2', clientId: 'h1/help-button', username: button.username, password: button.secret });
  t.ok(later.connected, 'the pair may try again after its back-off');
  await later.endAsync();
});

t.test('an address spraying many client ids is slowed, but a device behind it that has not failed still gets in', async (t) => {
  const h = await startBroker({ securityClock: systemClock, lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 300_000, addressMaxFailures: 4, addressDelayMs: 20, maxAddressDelayMs: 40 } });
  t.teardown(() => h.close());
  const { kettle } = await withDevices(h);
  for (let i = 0; i < 6; i++) {
    await t.rejects(connect(h.url(), { from: '127.0.0.3', clientId: `spray-${i}`, username: kettle.username, password: 'nope' }), /Bad username or password/i);
  }
  t.equal(h.broker.stats().delayedLogins, 1, 'past 4 failures, the 6th attempt from the address was checked after a delay');
  const dev = await connect(h.url(), { from: '127.0.0.3', clientId: 'h1/kettle', username: kettle.username, password: kettle.secret });
  t.ok(dev.connected, 'slowed, not refused');
  t.equal(h.broker.stats().delayedLogins, 2);
  t.equal(h.broker.stats().lockedOutLogins, 0, 'nothing refused unchecked');
  await dev.endAsync();
  const elsewhere = await connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret });
  t.ok(elsewhere.connected);
  t.equal(h.broker.stats().delayedLogins, 2, 'other addresses are not slowed');
  await elsewhere.endAsync();
});

t.test('device topic ACL over real connections', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle, svc } = await withDevices(h);
  const watcher = await connect(h.url(), { username: svc.username, password: svc.secret });
  const seen = inbox(watcher);
  const granted = await watcher.subscribeAsync('mimamori/v1/#', { qos: 1 });
  t.equal(granted[0]?.qos, 1, 'a service may subscribe to everything under mimamori/v1');

  const dev = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  // MQTT.js turns a SUBACK carrying 0x80 into an error that holds the packet.
  const refused = await dev.subscribeAsync(['#', commandTopic('h1', 'door'), '$SYS/#', commandTopic('h1', 'kettle')], { qos: 1 })
    .then(() => undefined, (err: { packet?: { granted?: number[] } }) => err.packet?.granted);
  t.same(refused, [128, 128, 128, 1], 'refused filters get 0x80; own commands granted');
  t.equal(dev.connected, true, 'a refused subscribe does not disconnect');
  t.equal(h.broker.stats().aclDenials.subscribe, 3);

  const devInbox = inbox(dev);
  await dev.publishAsync(eventTopic('h1', 'kettle'), JSON.stringify({ id: 'e1', ts, kind: 'kettle', state: 'on' }), { qos: 1 });
  await dev.publishAsync(heartbeatTopic('h1', 'kettle'), JSON.stringify({ ts }), { qos: 1 });
  await seen.waitFor(2);
  t.same(seen.messages.map((m) => m.topic), [eventTopic('h1', 'kettle'), heartbeatTopic('h1', 'kettle')]);

  await watcher.publishAsync(commandTopic('h1', 'kettle'), '{"cmd":"ping"}', { qos: 1 });
  await devInbox.waitFor(1);
  t.equal(devInbox.messages[0]?.topic, commandTopic('h1', 'kettle'), 'device receives its own commands');

  for (const topic of [eventTopic('h2', 'kettle'), eventTopic('h1', 'door')]) {
    const bad = await connect(h.url(), { username: kettle.username, password: kettle.secret });
    const gone = closed(bad);
    bad.publish(topic, JSON.stringify({ id: 'x', ts, kind: 'kettle', state: 'on' }), { qos: 1 });
    t.ok(await gone, `publishing to ${topic} disconnects`);
    bad.end(true);
  }
  t.equal(h.broker.stats().aclDenials.publish, 2);
  t.equal(seen.messages.length, 3, 'the refused publishes were not delivered (only the command was added)');
  const log = h.logs.lines.join('');
  t.match(log, /publish refused/);
  t.notOk(log.includes('"state":"on"') || log.includes('\\"state\\":\\"on\\"'), 'payload not logged');
  await dev.endAsync();
  await watcher.endAsync();
});

t.test('client id takeover is refused', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle, door } = await withDevices(h);
  await t.rejects(connect(h.url(), { clientId: 'mimamori-ingest', username: kettle.username, password: kettle.secret }), /Identifier rejected/i);
  await t.rejects(connect(h.url(), { clientId: 'h1/door', username: kettle.username, password: kettle.secret }), /Identifier rejected/i);
  const first = await connect(h.url(), { clientId: 'shared-id', username: door.username, password: door.secret });
  await t.rejects(connect(h.url(), { clientId: 'shared-id', username: kettle.username, password: kettle.secret }), /Identifier rejected/i, 'a live session of another login');
  t.ok(first.connected, 'the first client keeps its session');
  t.equal(h.broker.stats().clientIdRejections, 3);
  await first.endAsync();
});

t.test('an oversized packet closes that connection; others keep working', async (t) => {
  const h = await startBroker({ maxPacketSize: 1024 });
  t.teardown(() => h.close());
  const { kettle, door, svc } = await withDevices(h);
  const watcher = await connect(h.url(), { username: svc.username, password: svc.secret });
  const seen = inbox(watcher);
  await watcher.subscribeAsync(allEventsFilter, { qos: 1 });
  const big = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  const other = await connect(h.url('ws'), { username: door.username, password: door.secret });
  const gone = closed(big);
  big.publish(eventTopic('h1', 'kettle'), 'x'.repeat(5000), { qos: 0 });
  t.ok(await gone, 'oversized connection closed');
  big.end(true);
  await other.publishAsync(eventTopic('h1', 'door'), JSON.stringify({ id: 'd1', ts, kind: 'door', open: true }), { qos: 1 });
  await seen.waitFor(1);
  t.equal(seen.messages[0]?.topic, eventTopic('h1', 'door'));
  t.equal(seen.messages.length, 1, 'the oversized message was never delivered');
  t.equal(h.broker.stats().oversizedPackets, 1);
  t.match(h.logs.lines.join(''), /maxPacketSize/);
  // Oversized over WebSocket too.
  const gone2 = closed(other);
  other.publish(eventTopic('h1', 'door'), 'y'.repeat(3000));
  t.ok(await gone2, 'oversized over WebSocket closed');
  other.end(true);
  await until(() => h.broker.stats().oversizedPackets === 2);
  // Both cut connections are closed on the broker's side too: only the watcher is left.
  await until(() => h.broker.stats().clients === 1, 5000, 'the broker to drop the cut clients');
  await watcher.endAsync();
});

t.test('a busy configured port fails with the port and the variable to change', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const busy = (blocker.address() as { port: number }).port;
  const h = await startBroker();
  t.teardown(() => h.close());
  await t.rejects(createBroker({
    host: '127.0.0.1', tcpPort: 0, tlsPort: busy, wsPort: 0, maxPacketSize: 4096,
    lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 60_000 }, dataDir: h.dataDir, store: h.store, logger: h.logs.logger, clock: h.clock,
  }), { code: 'MIMAMORI_ERR_CONFIG', message: new RegExp(`port ${busy}.*MIMAMORI_MQTTS_PORT`) });
  await t.rejects(createBroker({
    host: '127.0.0.1', tcpPort: -1, tlsPort: 0, wsPort: 0, maxPacketSize: 4096,
    lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 60_000 }, dataDir: h.dataDir, store: h.store, logger: h.logs.logger, clock: h.clock,
  }), { code: 'MIMAMORI_ERR_CONFIG' }, 'invalid options');
});

t.test('a login remembered by the cache does not get past the back-off: wrong passwords still count and lock the pair', async (t) => {
  const h = await startBroker({ lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 } });
  t.teardown(() => h.close());
  const { kettle } = await withDevices(h);
  for (let i = 0; i < 2; i++) await (await connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret })).endAsync();
  for (let i = 0; i < 3; i++) {
    await t.rejects(connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: `${kettle.secret}-${i}` }), /Bad username or password/i, `wrong password ${i + 1} checked and refused`);
  }
  await t.rejects(connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret }), /Not authorized/i, 'the right, cached secret waits out the back-off too');
  const stats = h.broker.stats();
  t.equal(stats.authFailures, 3);
  t.equal(stats.lockouts, 1);
  t.equal(stats.lockedOutLogins, 1);
  h.clock.advanceBy(300_000);
  const back = await connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret });
  t.ok(back.connected, 'after the back-off the right secret gets in');
  await back.endAsync();
});

t.test('a disabled device cannot log in; a rotated secret takes effect at the next login', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-broker-db-'));
  const file = join(dir, 'hub.db');
  const store = createSqliteStore(file);
  const h = await startBroker({ lockout: { maxFailures: 10, windowMs: 60_000, lockMs: 60_000 } }, { store });
  t.teardown(async () => { await h.close(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const { kettle } = await withDevices(h);
  const first = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  await first.endAsync();
  const { rotateDeviceSecret } = await import('../../broker/device-credentials.js');
  const rotated = await rotateDeviceSecret(h.store, 'h1', 'kettle');
  await t.rejects(connect(h.url(), { username: kettle.username, password: kettle.secret }), /Bad username or password/i, 'old secret refused despite the login cache');
  const again = await connect(h.url(), { username: kettle.username, password: rotated.secret });
  await again.endAsync();
  // Store has no call to disable a device yet, so flip the column as an operator would.
  const db = new Database(file);
  db.prepare('UPDATE devices SET disabled = 1 WHERE home_id = ? AND device_id = ?').run('h1', 'kettle');
  db.close();
  await t.rejects(connect(h.url(), { username: kettle.username, password: rotated.secret }), /Bad username or password/i, 'disabled device refused');
  t.match(h.logs.lines.join(''), /"reason":"disabled"/);
});

t.test("the operator's own key and certificate are used when configured", async (t) => {
  const first = await startBroker();
  const dir = join(first.dataDir, 'tls');
  const own = await startBroker({ tlsKeyFile: join(dir, 'server-key.pem'), tlsCertFile: join(dir, 'server.pem') });
  t.teardown(async () => { await own.close(); await first.close(); });
  t.equal(own.broker.caCert, readFileSync(join(dir, 'server.pem'), 'utf8'), 'caCert is the configured certificate');
  const { kettle } = await withDevices(own);
  const c = await connect(`mqtts://127.0.0.1:${own.broker.ports.tls}`, { username: kettle.username, password: kettle.secret, ca: first.broker.caCert });
  t.ok(c.connected);
  await c.endAsync();
  await t.rejects(startBroker({ tlsKeyFile: join(dir, 'server-key.pem') }), { code: 'MIMAMORI_ERR_CONFIG', message: /MIMAMORI_TLS_CERT_FILE/ });
  await t.rejects(startBroker({ tlsKeyFile: join(dir, 'missing.pem'), tlsCertFile: join(dir, 'server.pem') }), { code: 'MIMAMORI_ERR_CONFIG', message: /missing\.pem/ });
});

t.test('devices are let in only while the hub service listens; they are sent away when it leaves', async (t) => {
  const { createSqliteStore } = await import('../../core/store.js');
  const { VirtualClock } = await import('../../core/clock.js');
  const { silentLogger } = await import('../../core/logger.js');
  const { createBroker } = await import('../../broker/index.js');
  const { provisionDevice, provisionService } = await import('../../broker/device-credentials.js');
  const mqtt = (await import('mqtt')).default;
  const store = createSqliteStore(':memory:');
  await store.createHome({ id: 'h1', name: 'x', timezone: 'Asia/Tokyo' });
  const dev = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  const svc = await provisionService(store, 'ingest');
  const other = await provisionService(store, 'bench');
  const broker = await createBroker({ host: '127.0.0.1', tcpPort: 0, tlsPort: 0, wsPort: 0, maxPacketSize: 65536, lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 }, dataDir: tempDir(t, 'mimamori-gate-'), store, logger: silentLogger(), clock: new VirtualClock(0), requireService: 'ingest' });
  t.teardown(async () => { await broker.close(); await store.close(); });
  const url = `mqtt://127.0.0.1:${broker.ports.tcp}`;
  const tryDevice = () => mqtt.connectAsync(url, { username: dev.username, password: dev.secret, clientId: 'h1/kettle', reconnectPeriod: 0 }).then((c) => c, (e: Error & { code?: number }) => e.code ?? -1);
  t.equal(await tryDevice(), 3, 'CONNACK 3 server unavailable while the hub service is absent');
  const bystander = await mqtt.connectAsync(url, { username: other.username, password: other.secret, clientId: 'mimamori-bench', reconnectPeriod: 0 });
  await bystander.subscribeAsync('mimamori/v1/#');
  t.equal(await tryDevice(), 3, 'another service does not open the gate');
  t.notOk(broker.admittingDevices());
  const ingest = await mqtt.connectAsync(url, { username: svc.username, password: svc.secret, clientId: 'mimamori-ingest', reconnectPeriod: 0 });
  t.notOk(broker.admittingDevices(), 'connected is not enough: it must be subscribed');
  await ingest.subscribeAsync('mimamori/v1/homes/+/devices/+/events', { qos: 1 });
  t.ok(broker.admittingDevices());
  const device = await tryDevice();
  if (typeof device === 'number') { t.fail(`device refused with ${device}`); return; }
  t.equal(broker.stats().lockouts, 0, 'waiting devices are not counted as failed logins');
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  await ingest.endAsync();
  await closed;
  t.pass('a connected device is sent away when the hub service leaves');
  t.notOk(broker.admittingDevices());
  await bystander.endAsync();
  await device.endAsync(true);
});

t.test('retained device publishes and wills are stripped: nothing comes back after a restart with persistence', async (t) => {
  const h = await startBroker({ persistence: 'level' });
  t.teardown(() => h.close());
  const { kettle, svc } = await withDevices(h);
  const press = JSON.stringify({ id: 'e-retained', ts, kind: 'kettle', state: 'on' });

  // A device that retains by default (Tasmota-style): its event and its will.
  const dev = await connect(h.url(), {
    clientId: 'h1/kettle', username: kettle.username, password: kettle.secret,
    will: { topic: heartbeatTopic('h1', 'kettle'), payload: Buffer.from(JSON.stringify({ ts })), qos: 1, retain: true },
  });
  const live = await connect(h.url(), { username: svc.username, password: svc.secret });
  const liveInbox = inbox(live);
  await live.subscribeAsync('mimamori/v1/homes/#', { qos: 1 });
  await dev.publishAsync(eventTopic('h1', 'kettle'), press, { qos: 1, retain: true });
  await liveInbox.waitFor(1);
  t.same(liveInbox.messages.map((m) => m.payload), [press], 'the event itself is delivered as usual');
  // An ungraceful end: the broker publishes the will.
  const willArrives = liveInbox.waitFor(2);
  dev.stream.destroy();
  dev.end(true); // no DISCONNECT can go out on the destroyed socket; this only stops the client
  await willArrives;
  t.equal(liveInbox.messages[1]?.topic, heartbeatTopic('h1', 'kettle'), 'the will is delivered as usual');
  await live.endAsync();
  t.equal(h.broker.stats().retainStripped, 2, 'one publish, one will');

  await h.restart();
  const fresh = await connect(h.url(), { username: svc.username, password: svc.secret });
  const freshInbox = inbox(fresh);
  await fresh.subscribeAsync('mimamori/v1/homes/#', { qos: 1 });
  // Barrier: a new, unretained event; retained messages would have arrived before it.
  const again = await connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret });
  await again.publishAsync(eventTopic('h1', 'kettle'), JSON.stringify({ id: 'e-marker', ts, kind: 'kettle', state: 'off' }), { qos: 1 });
  await freshInbox.waitFor(1);
  t.same(freshInbox.messages.map((m) => JSON.parse(m.payload).id), ['e-marker'], '0 retained messages replayed after the restart');
  t.notOk(h.logs.lines.join('').includes('removed retained device messages'), 'nothing was left to purge');
});

t.test('retained device messages kept by an earlier version are purged at start', async (t) => {
  const h = await startBroker({ persistence: 'level' });
  t.teardown(() => h.close());
  const { svc } = await withDevices(h);
  await h.broker.close();
  // What an earlier version left in the session store: a retained help press.
  const db = new Level(join(h.dataDir, 'broker'));
  await db.open();
  const AsyncLevelPersistence = createRequire(import.meta.url)('aedes-persistence-level/asyncPersistence.js') as new (db: Level) => { storeRetained(p: object): Promise<void>; destroy(): Promise<void> };
  const old = new AsyncLevelPersistence(db);
  await old.storeRetained({ cmd: 'publish', topic: eventTopic('h1', 'help-button'), payload: Buffer.from(JSON.stringify({ id: 'old-press', ts, kind: 'button', press: 'help' })), qos: 1, retain: true, dup: false });
  await old.storeRetained({ cmd: 'publish', topic: 'mimamori/v1/hub/status', payload: Buffer.from('kept'), qos: 0, retain: true, dup: false });
  await old.destroy();

  await h.restart();
  t.match(h.logs.lines.join(''), /"purged":1,.*removed retained device messages/, 'one device message purged; the service topic is not a device topic');
  const fresh = await connect(h.url(), { username: svc.username, password: svc.secret });
  const seen = inbox(fresh);
  await fresh.subscribeAsync(['mimamori/v1/homes/#', 'mimamori/v1/hub/#'], { qos: 1 });
  await seen.waitFor(1);
  await fresh.publishAsync('mimamori/v1/hub/marker', 'barrier', { qos: 1 });
  await seen.waitFor(2);
  t.same(seen.messages.map((m) => m.topic), ['mimamori/v1/hub/status', 'mimamori/v1/hub/marker'], 'no device message replayed');
});
