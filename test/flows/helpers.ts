/**
 * Shared set-up for the flows tests: a real bridge over a real SQLite store,
 * notifier and local Twilio-compatible server (virtual clock), with the hub's
 * streams as plain RxJS subjects the test pushes readings into.
 */
import { Subject } from 'rxjs';
import { VirtualClock } from '../../core/clock.js';
import type { Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore, type Store } from '../../core/store.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import { startLocalTwilio, type LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { createFlowsBridge, type FlowsBridge } from '../../flows/bridge.js';
import type { AlertRecord } from '../../flows/bridge.js';

export const start = Date.parse('2026-07-21T09:00:00+09:00');

export interface MiniHub {
  clock: VirtualClock;
  store: Store;
  twilio: LocalTwilio;
  notifier: Notifier;
  bridge: FlowsBridge;
  readings: Subject<Reading>;
  findings: Subject<Finding>;
  close(): Promise<void>;
}

/** Two homes (h1, h2) with a Japanese- and an English-speaking family contact and a caregiver each. */
export async function startMiniHub(opts: { maxNotifyPerHour?: number } = {}): Promise<MiniHub> {
  const clock = new VirtualClock(start);
  const logger = silentLogger();
  const store = createSqliteStore(':memory:');
  for (const home of ['h1', 'h2']) {
    await store.createHome({ id: home, name: `home ${home}`, timezone: 'Asia/Tokyo' });
    await store.addContact({ homeId: home, name: '山田 太郎', role: 'family', phone: home === 'h1' ? '+819012340001' : '+819012340011', language: 'ja', priority: 1 });
    await store.addContact({ homeId: home, name: 'Ken', role: 'family', phone: home === 'h1' ? '+819012340002' : '+819012340012', language: 'en', priority: 2 });
    await store.addContact({ homeId: home, name: '佐藤', role: 'caregiver', phone: home === 'h1' ? '+819012340003' : '+819012340013', language: 'ja', priority: 3 });
  }
  const twilio = await startLocalTwilio({ logger, clock });
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url }), from: '+815000000000', logger });
  const alertChanges = new Subject<AlertRecord>();
  const notifier = await createNotifier({
    store, logger, clock, sms,
    history: { writeAlert: (a) => alertChanges.next(a), writeNotification: () => undefined },
  });
  const readings = new Subject<Reading>();
  const findings = new Subject<Finding>();
  const bridgeOpts: Parameters<typeof createFlowsBridge>[0] = {
    store, clock, logger, readings, findings, alertChanges,
    handleFinding: (f) => notifier.handleFinding(f),
    channels: { sms },
  };
  if (opts.maxNotifyPerHour !== undefined) bridgeOpts.maxNotifyPerHour = opts.maxNotifyPerHour;
  const bridge = createFlowsBridge(bridgeOpts);
  return {
    clock, store, twilio, notifier, bridge, readings, findings,
    async close() {
      bridge.close();
      await notifier.close();
      await twilio.close();
      await store.close();
    },
  };
}
