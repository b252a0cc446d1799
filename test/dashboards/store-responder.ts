/**
 * Test only: a minimal AlertResponder over the store for the web-app tests,
 * which exercise the pages and routes without an escalation engine. It only
 * moves the alert's status and writes an audit record; it stops no
 * escalation and tells nobody, so production code never uses it (the hub
 * passes the notifier's responder).
 */
import type { Clock } from '../../core/clock.js';
import type { Store } from '../../core/store.js';
import type { AlertResponder, ResponseInput, ResponseResult } from '../../notifier/responder.js';

/** Creates the stand-in responder (see the file comment). */
export function createStoreResponder(store: Store, clock: Clock): AlertResponder {
  async function act(input: ResponseInput, action: string, status: 'acknowledged' | 'resolved' | undefined): Promise<ResponseResult> {
    const alert = await store.getAlert(input.alertId);
    if (!alert) return { ok: false, reason: 'not_found', message: `alert ${input.alertId} not found` };
    if (alert.status === 'resolved') return { ok: false, reason: 'already_resolved', message: 'the alert is already resolved' };
    const at = input.at ?? clock.now();
    const next = status && !(status === 'acknowledged' && alert.status === 'acknowledged') ? await store.updateAlertStatus(alert.id, status, at)
      : alert.status === 'open' ? await store.updateAlertStatus(alert.id, 'acknowledged', at) : alert;
    await store.audit({ at, actor: input.account?.id ?? input.contactId ?? input.via, action: `alert.${action}`, subject: alert.id, detail: { via: input.via } });
    return { ok: true, alert: next };
  }
  return {
    acknowledge: (i) => act(i, 'acknowledge', 'acknowledged'),
    onMyWay: (i) => act(i, 'on-my-way', undefined),
    arrived: (i) => act(i, 'arrived', undefined),
    resolve: (i) => act(i, 'resolve', 'resolved'),
    bindReply: async () => ({ kind: 'none' }),
    bindReplyFrom: async () => ({ kind: 'none' }),
  };
}
