/**
 * The web app's `notifications` port, wired to a real notifier the way
 * cli/hub.ts wires it. The web app must exist before the notifier (the
 * notifier uses its store), so the port is made first and bound later.
 */
import type { SchedulerLike } from 'rxjs';
import type { Test } from 'tap';
import webPush from 'web-push';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { Store } from '../../core/store.js';
import type { NotificationSettings } from '../../dashboards/index.js';
import type { Notifier } from '../../notifier/index.js';
import { issueLineLinkCode } from '../../notifier/line-webhook.js';
import { answerPushAction } from '../../notifier/push-action.js';
import { subscribePush, unsubscribePush } from '../../notifier/push-subscription.js';
import { createPushChannel } from '../../notifier/channels/push.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier } from '../../notifier/index.js';
import { startLocalPush } from '../../notifier/local-push-server.js';
import { startLocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { setup, start } from './helpers.js';

export interface LateNotificationSettings {
  port: NotificationSettings;
  /** Binds the port to the notifier; with `push`, the web push part too. */
  bind(o: { notifier: Notifier; store: Store; clock: SchedulerLike; push?: { publicKey: string; secret: string } }): void;
}

export function lateNotificationSettings(withPush = false): LateNotificationSettings {
  const box: { n?: NotificationSettings } = {};
  const n = () => { if (!box.n) throw new Error('the notifications port is not bound yet'); return box.n; };
  const port: NotificationSettings = {
    channelNames: () => n().channelNames(), setPreferences: (...a) => n().setPreferences(...a), reach: (c) => n().reach(c),
    sendTest: (...a) => n().sendTest(...a), setLanguage: (...a) => n().setLanguage(...a), lineLinkCode: (c) => n().lineLinkCode(c),
    retryNotification: (...a) => n().retryNotification!(...a),
  };
  if (withPush) {
    port.push = {
      get publicKey() { return n().push!.publicKey; },
      subscribe: (...a) => n().push!.subscribe(...a), unsubscribe: (...a) => n().push!.unsubscribe(...a), action: (...a) => n().push!.action(...a),
    };
  }
  return {
    port,
    bind({ notifier, store, clock, push }) {
      box.n = {
        channelNames: () => notifier.channelNames(),
        setPreferences: async (id, p, actor) => { try { await notifier.setContactPreferences(id, p, actor); return { errors: [] }; } catch (err) { return { errors: [(err as Error).message] }; } },
        reach: (id) => notifier.reach(id), sendTest: (id, ch, actor) => notifier.sendTest(id, ch, actor),
        setLanguage: (id, language, actor) => notifier.setContactLanguage(id, language, actor),
        lineLinkCode: (id) => issueLineLinkCode(store, id, clock.now()),
        retryNotification: (alertId, notificationId, actor) => notifier.retryNotification(alertId, notificationId, actor),
      };
      if (push) {
        box.n.push = {
          publicKey: push.publicKey,
          subscribe: async (contactId, subscription, label, actor) => {
            try { await subscribePush(store, { contactId, subscription, actor, now: clock.now(), ...(label ? { label } : {}) }); return { errors: [] }; } catch (err) { return { errors: [(err as Error).message] }; }
          },
          unsubscribe: (contactId, endpoint, actor) => unsubscribePush(store, { contactId, endpoint, actor, now: clock.now() }),
          action: (token, action) => answerPushAction({ secret: push.secret, responder: notifier.responder, clock, logger: silentLogger() }, token, action),
        };
      }
    },
  };
}

/**
 * The web app with the real notifier behind its notifications port, the real
 * twilio client against the local Twilio server, and the real web-push
 * channel against the local push service: what the settings page and the
 * browser test of push both stand on. Everything closes at `t`'s teardown.
 */
export async function webPushRig(t: Test, secret: string) {
  const local = await startLocalPush({ logger: silentLogger() });
  t.teardown(() => local.close());
  const keys = webPush.generateVAPIDKeys();
  const clock = new VirtualClock(start);
  const late = lateNotificationSettings(true);
  const f = await setup({ notifications: late.port });
  t.teardown(() => f.close());
  const twilio = await startLocalTwilio({ logger: silentLogger(), clock });
  t.teardown(() => twilio.close());
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url }), from: '+815000000000', logger: silentLogger() });
  const push = createPushChannel({ vapid: { subject: 'mailto:hub@mimamori.example', ...keys }, logger: silentLogger(), clock, ca: local.ca, actions: { secret } });
  t.teardown(() => push.close?.());
  const notifier = await createNotifier({ store: f.store, logger: silentLogger(), clock, sms, channels: [push] });
  t.teardown(() => notifier.close());
  late.bind({ notifier, store: f.store, clock, push: { publicKey: keys.publicKey, secret } });
  return { local, keys, clock, f, twilio, notifier };
}
