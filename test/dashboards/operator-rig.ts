/**
 * The web app with a real notifier behind its escalation and notifications
 * ports (as hub/index.ts wires them): SMS and voice through the real twilio
 * client against the local Twilio server, on a virtual clock. The operator's
 * policy form and dead-letter pages stand on it. Everything closes at `t`'s
 * teardown.
 */
import type { Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { EscalationPolicies } from '../../dashboards/index.js';
import { createNotifier, createSmsChannel, createTwilioClient, createVoiceChannel, startLocalTwilio, type Notifier } from '../../notifier/index.js';
import { setup, start } from './helpers.js';
import { lateNotificationSettings } from './notification-port.js';

export async function operatorRig(t: Test) {
  const clock = new VirtualClock(start);
  const late = lateNotificationSettings();
  const box: { notifier?: Notifier } = {};
  const escalation: EscalationPolicies = {
    get: (homeId) => box.notifier!.getEscalationPolicy(homeId),
    set: async (homeId, policy) => {
      try { await box.notifier!.setEscalationPolicy(homeId, policy); return { errors: [] }; } catch (err) { return { errors: [(err as Error).message] }; }
    },
  };
  const f = await setup({ notifications: late.port, escalation });
  t.teardown(() => f.close());
  const twilio = await startLocalTwilio({ logger: silentLogger(), clock });
  t.teardown(() => twilio.close());
  const client = createTwilioClient({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url });
  const sms = createSmsChannel({ client, from: '+815000000000', logger: silentLogger() });
  const voice = createVoiceChannel({ client, from: '+815000000000', logger: silentLogger(), gatherActionUrl: 'http://127.0.0.1:9/twilio/voice/gather' });
  const notifier = await createNotifier({ store: f.store, logger: silentLogger(), clock, sms, channels: [voice] });
  t.teardown(() => notifier.close());
  box.notifier = notifier;
  late.bind({ notifier, store: f.store, clock });
  // The contacts of home h1, in calling order.
  const family = await f.store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: '+819012345678', language: 'ja', priority: 1 });
  const carer = await f.store.addContact({ homeId: 'h1', name: '佐藤 ケアマネ', role: 'caregiver', phone: '+81312345678', language: 'ja', priority: 2 });
  const emergency = await f.store.addContact({ homeId: 'h1', name: '緊急 花子', role: 'emergency', phone: '+819011112222', language: 'ja', priority: 3 });
  return { f, twilio, notifier, clock, contacts: { family, carer, emergency } };
}
