import t from 'tap';
import { createSqliteStore } from '../../core/store.js';
import { hashScrypt } from '../../core/scrypt-hash.js';
import { commandTopic, eventTopic, heartbeatTopic } from '../../core/topics.js';
import { hashSecret, parseUsername, provisionDevice, provisionService, rotateDeviceSecret, verifySecret, type Identity } from '../../broker/device-credentials.js';
import { canPublish, canSubscribe } from '../../broker/topic-acl.js';
import { checkClientId } from '../../broker/client-id-policy.js';

t.test('secrets are stored salted and hashed, and verified; hashes stored as scrypt before still verify', async (t) => {
  const encoded = await hashSecret('s3cret');
  t.match(encoded, /^sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  t.not(encoded, await hashSecret('s3cret'), 'random salt');
  t.notOk(encoded.includes('s3cret'));
  t.ok(await verifySecret('s3cret', encoded));
  t.notOk(await verifySecret('s3cret!', encoded));
  t.notOk(await verifySecret('s3cre', encoded));
  t.notOk(await verifySecret('s3cret', 'plain'), 'malformed hash is a mismatch');
  t.notOk(await verifySecret('s3cret', `${encoded}$x`), 'an extra field');
  t.notOk(await verifySecret('s3cret', encoded.replace(/\$[^$]+$/, '$AAAA')), 'a short hash');
  t.notOk(await verifySecret('s3cret', encoded.replace(/^sha256\$[^$]+/, 'sha256$AAAA')), 'a short salt');
  // A device provisioned by an older hub keeps working.
  const legacy = await hashScrypt('s3cret', { N: 4096, r: 8, p: 1, keyLength: 32, saltLength: 16 });
  t.ok(await verifySecret('s3cret', legacy), 'an scrypt hash from before');
  t.notOk(await verifySecret('s3cret!', legacy));
  t.notOk(await verifySecret('s3cret', legacy.replace('$4096$', '$999999999$')), 'absurd scrypt parameters refused');
});

t.test('provisioning stores only the hash and returns the secret once', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.createHome({ id: 'h1', name: 'n', timezone: 'Asia/Tokyo' });
  const creds = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle', label: 'Kitchen kettle' });
  t.equal(creds.username, 'h1/kettle');
  const device = await store.getDevice('h1', 'kettle');
  t.equal(device?.label, 'Kitchen kettle');
  t.not(device?.secretHash, creds.secret);
  t.notOk(device?.secretHash.includes(creds.secret));
  t.ok(await verifySecret(creds.secret, device!.secretHash));

  const rotated = await rotateDeviceSecret(store, 'h1', 'kettle');
  const after = await store.getDevice('h1', 'kettle');
  t.ok(await verifySecret(rotated.secret, after!.secretHash));
  t.notOk(await verifySecret(creds.secret, after!.secretHash), 'old secret no longer valid');
  await t.rejects(rotateDeviceSecret(store, 'h1', 'nope'), { code: 'MIMAMORI_ERR_NOT_FOUND' });
  await t.rejects(provisionDevice(store, { homeId: 'H 1', deviceId: 'x', kind: 'door' }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });

  const svc = await provisionService(store, 'ingest');
  t.equal(svc.username, 'service:ingest');
  const again = await provisionService(store, 'ingest');
  const hash = await store.getServiceSecretHash('ingest');
  t.ok(await verifySecret(again.secret, hash!));
  t.notOk(await verifySecret(svc.secret, hash!), 'calling again rotates');
});

t.test('username conventions', async (t) => {
  t.same(parseUsername('h1/kettle'), { type: 'device', home: 'h1', device: 'kettle' });
  t.same(parseUsername('service:ingest'), { type: 'service', name: 'ingest' });
  for (const bad of ['h1', 'h1/kettle/x', 'H1/kettle', 'service:', 'service:Bad Name', '/kettle', '']) t.equal(parseUsername(bad), undefined, bad);
});

const device: Identity = { type: 'device', home: 'h1', device: 'kettle' };
const service: Identity = { type: 'service', name: 'ingest' };

t.test('device ACL: own events and heartbeat, own commands only', async (t) => {
  t.ok(canPublish(device, eventTopic('h1', 'kettle')).allowed);
  t.ok(canPublish(device, heartbeatTopic('h1', 'kettle')).allowed);
  for (const topic of [eventTopic('h2', 'kettle'), eventTopic('h1', 'door'), commandTopic('h1', 'kettle'), 'mimamori/v1/hub/x', '$SYS/x', 'mimamori/v1/homes/+/devices/kettle/events', 'other']) {
    t.notOk(canPublish(device, topic).allowed, `publish ${topic}`);
  }
  t.ok(canSubscribe(device, commandTopic('h1', 'kettle')).allowed);
  for (const filter of ['#', 'mimamori/v1/#', commandTopic('h1', 'door'), commandTopic('h2', 'kettle'), '$SYS/#', 'mimamori/v1/homes/h1/devices/+/commands', eventTopic('h1', 'kettle')]) {
    t.notOk(canSubscribe(device, filter).allowed, `subscribe ${filter}`);
  }
});

t.test('service ACL: subscribe under mimamori/v1, publish commands and hub topics', async (t) => {
  for (const filter of ['mimamori/v1/#', 'mimamori/v1/homes/+/devices/+/events', eventTopic('h1', 'kettle')]) t.ok(canSubscribe(service, filter).allowed, filter);
  for (const filter of ['#', '$SYS/#', 'other/#', 'mimamori/v1/#/x', 'mimamori/v1/a+b']) t.notOk(canSubscribe(service, filter).allowed, filter);
  t.ok(canPublish(service, commandTopic('h2', 'kettle')).allowed);
  t.ok(canPublish(service, 'mimamori/v1/hub/status').allowed);
  for (const topic of [eventTopic('h1', 'kettle'), 'mimamori/v1/hub/', 'mimamori/v1/homes/+/devices/x/commands', '$SYS/x', 'mimamori/v1/hub/#']) t.notOk(canPublish(service, topic).allowed, topic);
});

t.test('client id rules stop session takeover', async (t) => {
  t.ok(checkClientId(device, 'h1/kettle', false).allowed, 'own id, persistent');
  t.ok(checkClientId(device, 'h1/kettle/agent', false).allowed);
  t.ok(checkClientId(device, 'mqttjs_1234', true).allowed, 'any plain id with a clean session');
  t.notOk(checkClientId(device, 'mqttjs_1234', false).allowed, 'persistent session needs own id');
  t.notOk(checkClientId(device, 'mimamori-ingest', true).allowed, 'service id reserved');
  t.notOk(checkClientId(device, 'h1/door', true).allowed, "another device's id");
  t.ok(checkClientId(service, 'mimamori-ingest', false).allowed);
});
