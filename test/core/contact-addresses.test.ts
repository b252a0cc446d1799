import t from 'tap';
import { join } from 'node:path';
import { createSqliteStore } from '../../core/store.js';
import { migrations } from '../../core/migrations.js';
import { tempDir } from '../support/wait.js';
import { databaseAtVersion } from '../support/old-schema.js';

t.test('migration 11 turns the phone and e-mail columns into addresses', async (t) => {
  const file = join(tempDir(t, 'mimamori-addr-'), 'hub.db');
  // A hub at migration 8, with two contacts made before addresses existed.
  const db = databaseAtVersion(file, 8);
  db.prepare("INSERT INTO homes (id, name, timezone, created_at) VALUES ('h1', 'Yamada', 'Asia/Tokyo', 0)").run();
  db.prepare("INSERT INTO contacts (id, home_id, name, role, phone, email, language, priority) VALUES ('c1', 'h1', '太郎', 'family', '+819011112222', 'taro@example.jp', 'ja', 1)").run();
  db.prepare("INSERT INTO contacts (id, home_id, name, role, phone, email, language, priority) VALUES ('c2', 'h1', 'Ken', 'family', NULL, 'ken@example.com', 'en', 2)").run();
  db.close();

  const store = createSqliteStore(file);
  t.teardown(() => store.close());
  t.equal(await store.schemaVersion(), migrations.at(-1)!.version);
  t.same((await store.listContactAddresses('c1')).map((a) => [a.kind, a.address, a.verification]), [['phone', '+819011112222', 'operator'], ['email', 'taro@example.jp', 'operator']]);
  t.same((await store.listContactAddresses('c2')).map((a) => [a.kind, a.address]), [['email', 'ken@example.com']]);
  t.same((await store.findContactsByAddress('phone', '+819011112222')).map((c) => c.id), ['c1']);
});

t.test('addresses: any number per contact, verification, lookup and removal', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.createHome({ id: 'h1', name: 'Yamada', timezone: 'Asia/Tokyo' });
  const taro = await store.addContact({ homeId: 'h1', name: '太郎', role: 'family', phone: '+819011112222', language: 'ja', priority: 1 });
  t.same((await store.listContactAddresses(taro.id)).map((a) => a.kind), ['phone'], 'a new contact\'s phone is its first address');
  const line = await store.saveContactAddress({ contactId: taro.id, kind: 'line', address: 'U' + 'a'.repeat(32), verification: 'verified', verifiedAt: 5, createdAt: 5 });
  await store.saveContactAddress({ contactId: taro.id, kind: 'push', address: '{"endpoint":"https://p/1"}', label: 'phone', verification: 'verified', createdAt: 6 });
  await store.saveContactAddress({ contactId: taro.id, kind: 'push', address: '{"endpoint":"https://p/2"}', label: 'tablet', verification: 'verified', createdAt: 7 });
  // Saving the same address again updates it instead of adding a copy.
  const again = await store.saveContactAddress({ contactId: taro.id, kind: 'push', address: '{"endpoint":"https://p/2"}', label: 'iPad', verification: 'verified', createdAt: 8 });
  const all = await store.listContactAddresses(taro.id);
  t.same(all.map((a) => a.kind), ['phone', 'line', 'push', 'push']);
  t.equal(all.find((a) => a.id === again.id)?.label, 'iPad');
  t.same((await store.findContactsByAddress('line', line.address)).map((c) => c.id), [taro.id]);
  t.same(await store.findContactsByAddress('line', 'U-nobody'), []);
  t.equal(await store.removeContactAddress({ kind: 'line', address: line.address }), 1);
  t.equal(await store.removeContactAddress({ id: again.id }), 1);
  t.same((await store.listContactAddresses(taro.id)).map((a) => a.kind), ['phone', 'push']);
});

t.test('link codes are used once, expire, and a new code replaces the old one', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.createHome({ id: 'h1', name: 'Yamada', timezone: 'Asia/Tokyo' });
  const taro = await store.addContact({ homeId: 'h1', name: '太郎', role: 'family', language: 'ja', priority: 1 });
  await store.createLinkCode({ code: '111111', kind: 'line', contactId: taro.id, expiresAt: 1000, createdAt: 0 });
  t.equal(await store.takeLinkCode('email', '111111', 10), undefined, 'a code is for one kind of address');
  t.equal(await store.takeLinkCode('line', '111111', 10), taro.id);
  t.equal(await store.takeLinkCode('line', '111111', 10), undefined, 'used once');
  await store.createLinkCode({ code: '222222', kind: 'line', contactId: taro.id, expiresAt: 1000, createdAt: 0 });
  await store.createLinkCode({ code: '333333', kind: 'line', contactId: taro.id, expiresAt: 1000, createdAt: 1 });
  t.equal(await store.takeLinkCode('line', '222222', 10), undefined, 'the newer code replaced it');
  t.equal(await store.takeLinkCode('line', '333333', 1000), undefined, 'expired');
  await store.setContactAccount(taro.id, 'acc-1');
  t.same((await store.listContactsOfAccount('acc-1')).map((c) => c.id), [taro.id]);
  t.equal((await store.getContact(taro.id))?.accountId, 'acc-1');
});
