/**
 * The dead-letter cap as configured: `deadLetters.keepPerHome`
 * (MIMAMORI_DEAD_LETTERS_PER_HOME) reaches the store the hub and the CLI open,
 * and the default is 1000 per home.
 */
import t from 'tap';
import { loadConfig } from '../../core/config.js';
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
