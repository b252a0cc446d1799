/**
 * The hub's store: the data folder made private, the configured store
 * (PostgreSQL when MIMAMORI_DATABASE_URL is set, else the SQLite file in the
 * data folder: docs/store.md), TOTP seeds sealed at rest.
 */
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { WallClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { openStore as openConfiguredStore } from '../core/store-open.js';
import { privateUmask, securePrivateDir } from '../core/file-modes.js';
import { sealPlaintextSeeds, seedKeyFrom } from '../dashboards/index.js';
import { keptSecret } from './secrets.js';
import type { OnClose } from './on-close.js';

/** Opens the store (closed through `onClose`) and the TOTP seed key. */
export async function openStore(config: Config, wallClock: WallClock, logger: Logger, onClose: OnClose): Promise<{ store: Store; totpSeedKey: Buffer }> {
  // Everything the hub (and influxd, Node-RED) creates is private to its user; looser modes are fixed now.
  const previousUmask = process.umask(privateUmask);
  onClose('umask', async () => { process.umask(previousUmask); });
  securePrivateDir(config.dataDir, logger.child({ part: 'data-folder' }));
  // Times the store stamps itself (a row's creation, a lease) are wall-clock time, never the demo's sped-up clock.
  // SQLite's WAL checkpoints run in a worker thread, not in the ingest's commits on the event loop.
  const checkpoints = logger.child({ part: 'sqlite-checkpoints' });
  const store = await openConfiguredStore(config, {
    now: () => wallClock.now(),
    checkpointInWorker: { onError: (message) => checkpoints.warn({ reason: message }, 'SQLite checkpoint failed; the store checkpoints itself meanwhile') },
  });
  onClose('store', () => store.close());
  // TOTP seeds are sealed at rest under a key kept beside the other secrets (and backed up with them).
  const totpSeedKey = seedKeyFrom(keptSecret(join(config.dataDir, 'totp-seed.secret')));
  const newlySealed = await sealPlaintextSeeds(store, totpSeedKey);
  if (newlySealed > 0) logger.info({ accounts: newlySealed }, 'TOTP seeds encrypted at rest');
  return { store, totpSeedKey };
}
