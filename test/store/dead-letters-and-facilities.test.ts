/**
 * The dead-letter cap as configured: `deadLetters.keepPerHome`
 * (MIMAMORI_DEAD_LETTERS_PER_HOME) reaches the store the hub and the CLI open,
 * and the default is 1000 per home. And migration 17 on a database an older
 * version left: its facility ids become facilities.
 */
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.js';
import { createSqliteStore } from '../../core/store.js';
import { databaseAtVersion } from '../support/old-schema.js';
import { openStore } from '../../core/store-open.js';
import { tempDir } from '../support/wait.js';

t.test('the configured number per home is kept, the newest', async (t) => {
  t.equal(loadConfig({}).deadLetters.keepPerHome, 1000, 'default');
  const config = loadConfig({ MIMAMORI_DATA_DIR: tempDir(t, 'mimamori-cap-'), MIMAMORI_DEAD_LETTERS_PER_HOME: '3' });
  t.equal(config.deadLetters.keepPerHome, 3);
  const store = await openStore(config);
  t.teardown(() => store.close());
  // Three per home: pruned at every message (a tenth of 3, at least 1).
  for (let i = 0; i < 8; i++) await store.recordRejected({ at: 10 + i, topic: 't', homeId: 'h1', reason: 'malformed_json', payload: `#${i}` });
  t.same((await store.listRejected()).map((r) => r.payload), ['#7', '#6', '#5']);
  t.throws(() => loadConfig({ MIMAMORI_DEAD_LETTERS_PER_HOME: '0' }), 'at least one');
});

t.test('migration 17: facilities that were only ids in enrolments and staff links become facilities named by their id', async (t) => {
  const file = join(tempDir(t, 'mimamori-m17-'), 'hub.db');
  const old = databaseAtVersion(file, 16);
  old.prepare("INSERT INTO facility_homes (facility_id, home_id) VALUES ('dc-sakura', 'h1'), ('dc-sakura', 'h2'), ('dc-ume', 'h1')").run();
  old.prepare("INSERT INTO web_links (account_id, kind, target_id) VALUES ('staff1', 'facility', 'dc-sakura'), ('staff2', 'facility', 'dc-kiku'), ('fam', 'home', 'h1')").run();
  old.close();
  const store = createSqliteStore(file);
  t.teardown(() => store.close());
  t.same(await store.listFacilities(), [
    { id: 'dc-kiku', name: 'dc-kiku', createdAt: 0 }, { id: 'dc-sakura', name: 'dc-sakura', createdAt: 0 }, { id: 'dc-ume', name: 'dc-ume', createdAt: 0 },
  ], 'each id once, from both tables; a home link is not a facility');
  t.same(await store.listEnrollments({ homeId: 'h1' }), [{ facilityId: 'dc-sakura', homeId: 'h1' }, { facilityId: 'dc-ume', homeId: 'h1' }], 'enrolments kept');
});
