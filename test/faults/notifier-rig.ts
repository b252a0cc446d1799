/**
 * The real notifier for fault scenarios: SQLite, the twilio client against
 * the local Twilio server (SMS), the hub's Twilio webhooks on a loopback
 * port (so replies travel as signed HTTP requests and the answers go back
 * out as real outbound SMS), and a virtual clock stepped minute by minute
 * with the notifier's idle() barrier — no sleeps.
 */
import type { Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { Contact } from '../../core/store.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import type { LocalMessage, LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { twilioWebhooks } from '../../notifier/twilio-webhooks.js';
import { at1942, homeId, listen, newApp, seedHome, startLocal, type SeededHome } from '../notifier/helpers.js';

export const ourNumber = '+815000000000';
export const min = 60_000;

/** Family by SMS, then caregivers, then the emergency tier, ten minutes each. */
export const policy = {
  tiers: [
    { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 },
    { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 10 },
    { name: 'emergency', recipients: [{ role: 'emergency' }], channels: ['sms'], waitMinutes: 10 },
  ],
  entry: { info: 'family', warning: 'family', critical: 'family' },
  renotifyMinutes: 30, renotifyMax: 0, graceMinutes: 10,
};

export interface NotifierRig extends SeededHome {
  clock: VirtualClock;
  local: LocalTwilio;
  notifier: Notifier;
  emergency: Contact;
  /** Moves the clock minute by minute (or less), waiting for every step and send after each move. */
  advance(ms: number): Promise<void>;
  /** SMS the hub sent to this phone, oldest first. */
  to(phone: string | undefined): LocalMessage[];
  /** A reply from this phone, through the local Twilio server and the hub's webhook; resolves with the hub's answers. */
  reply(phone: string, body: string): Promise<string[]>;
}

export async function notifierRig(t: Test, extra: Partial<Parameters<typeof createNotifier>[0]> = {}): Promise<NotifierRig> {
  const seeded = await seedHome();
  const emergency = await seeded.store.addContact({ homeId, name: '見守りセンター', role: 'emergency', phone: '+81311112222', language: 'ja', priority: 9 });
  const clock = new VirtualClock(at1942);
  const local = await startLocal(clock);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from: ourNumber, logger: silentLogger() });
  await seeded.store.setEscalationPolicy(homeId, policy, clock.now());
  const notifier = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms, ...extra });
  const app = newApp();
  await app.register(twilioWebhooks, {
    authToken: local.authToken, responder: notifier.responder, logger: silentLogger(),
    languageForPhone: async (p) => (await seeded.store.findContactsByPhone(p))[0]?.language,
  });
  local.setInboundSmsUrl(`${await listen(app)}/twilio/sms`);
  t.teardown(async () => { await notifier.close(); await app.close(); await local.close(); await seeded.store.close(); });
  const rig: NotifierRig = {
    ...seeded, clock, local, notifier, emergency,
    async advance(ms) {
      const end = clock.now() + ms;
      while (clock.now() < end) { clock.advanceTo(Math.min(end, clock.now() + min)); await notifier.idle(); }
      await local.settled();
    },
    to: (phone) => local.messages().filter((m) => m.to === phone && m.from === ourNumber),
    async reply(phone, body) {
      const r = await local.simulateInboundSms({ from: phone, to: ourNumber, body });
      await notifier.idle();
      await local.settled();
      return r.replies;
    },
  };
  return rig;
}

export { at1942, homeId };
