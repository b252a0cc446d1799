/**
 * Delivery receipts on a store whose writes may commit out of order (a
 * PostgreSQL pool): Twilio sends `sent` and `delivered` for one message
 * moments apart, and both may be applied at once. A notification's status
 * only moves forward (notifier/delivery-status.ts), so the receipt that read
 * an older status must not overwrite the newer one when its write lands last.
 */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqlStore } from '../../core/store.js';
import type { Channel } from '../../notifier/channel.js';
import { createNotifier } from '../../notifier/index.js';
import { gate, outOfOrderPort } from '../support/out-of-order-port.js';
import { at1942, homeId, seedHome } from './helpers.js';

t.test('a late "sent" receipt does not overwrite "delivered" when its write commits last', async (t) => {
  const { port } = await outOfOrderPort(t);
  // The `sent` receipt's status write is held back (a slow pool connection) until `delivered` has committed.
  const slowSent = gate();
  const store = createSqlStore({
    ...port,
    run: async (sql, ...p) => {
      if (sql.startsWith('UPDATE notifications SET status') && p[0] === 'sent') await slowSent.wait();
      return port.run(sql, ...p);
    },
  });
  const { taro } = await seedHome(store);
  const clock = new VirtualClock(at1942);
  const sms: Channel = { name: 'sms', send: async () => ({ status: 'queued', providerId: 'SM1' }) };
  const notifier = await createNotifier({ store, logger: silentLogger(), clock, sms });
  t.teardown(async () => { await notifier.close(); await store.close(); });

  const { alert } = await store.openAlert({ homeId, rule: 'bath-flow', severity: 'critical', message: 'bath', finding: {}, openedAt: at1942 });
  const n = await store.recordNotification({ alertId: alert.id, contactId: taro.id, channel: 'sms', status: 'pending', createdAt: at1942 });
  await store.updateNotification(n.id, { status: 'queued', providerId: 'SM1' }, at1942);

  const sent = notifier.handleReceipt({ providerId: 'SM1', status: 'sent' });
  await slowSent.reached; // `sent` read `queued` and its write is on its way
  const delivered = await notifier.handleReceipt({ providerId: 'SM1', status: 'delivered' });
  t.equal(delivered.status, 'delivered', 'delivered read queued too, and moved it on');
  slowSent.open();
  await sent;
  await notifier.idle();
  t.equal((await store.findNotificationByProviderId('SM1'))?.status, 'delivered', 'the final status stays delivered');
});
