/**
 * The AlertResponder (notifier/responder.ts) on top of the escalation engine:
 * checks the input (the alert exists, is not resolved, the person belongs to
 * the alert's home), then runs the change in the home's queue so it cannot
 * race an escalation step.
 */
import type { SchedulerLike } from 'rxjs';
import type { Alert, Store } from '../core/store.js';
import type { AlertResponder, ResponseInput, ResponseResult } from './responder.js';
import type { EscalationEngine } from './escalation-engine.js';

/** How a web account is recorded where a contact id would be (escalation state, audit, lifecycle). */
export const accountActor = (accountId: string): string => `account:${accountId}`;

/** Creates the responder the webhooks, the web app and the door sensor call. */
export function createAlertResponder(deps: { store: Store; clock: SchedulerLike; engine: EscalationEngine }): AlertResponder {
  const { store, clock, engine } = deps;

  async function check(input: ResponseInput): Promise<{ ok: true; alert: Alert } | Extract<ResponseResult, { ok: false }>> {
    if (!input || typeof input.alertId !== 'string' || input.alertId === '') return { ok: false, reason: 'invalid', message: 'alertId is required' };
    const alert = await store.getAlert(input.alertId);
    if (!alert) return { ok: false, reason: 'not_found', message: `no alert ${input.alertId}` };
    if (alert.status === 'resolved') return { ok: false, reason: 'already_resolved', message: 'this alert is already resolved' };
    if (input.contactId !== undefined && input.account === undefined) {
      const contacts = await store.listContacts(alert.homeId);
      if (!contacts.some((c) => c.id === input.contactId)) return { ok: false, reason: 'not_a_recipient', message: 'this person is not a contact of the home' };
    }
    return { ok: true, alert };
  }

  async function act(input: ResponseInput, fn: (alert: Alert, at: number) => Promise<Alert>): Promise<ResponseResult> {
    const pre = await check(input);
    if (!pre.ok) return pre;
    return engine.serial(pre.alert.homeId, async () => {
      const again = await check(input); // it may have changed while queued
      if (!again.ok) return again;
      return { ok: true as const, alert: await fn(again.alert, input.at ?? clock.now()) };
    });
  }

  /** Who acted, as the engine records it: a contact id, or `account:<id>` for a web account. */
  const actor = (input: ResponseInput): string | undefined => (input.account ? accountActor(input.account.id) : input.contactId);

  return {
    acknowledge: (input) => act(input, (a, at) => engine.acknowledge(a.id, actor(input), input.via, at)),
    onMyWay: (input) => {
      if (input.etaMinutes !== undefined && !(Number.isFinite(input.etaMinutes) && input.etaMinutes > 0 && input.etaMinutes <= 24 * 60)) {
        return Promise.resolve({ ok: false, reason: 'invalid', message: 'etaMinutes must be between 1 and 1440' });
      }
      return act(input, (a, at) => engine.onMyWay(a.id, actor(input), input.via, input.etaMinutes, at));
    },
    arrived: (input) => act(input, (a, at) => engine.arrived(a.id, actor(input), input.via, at)),
    resolve: (input) => act(input, async (a, at) => {
      const by: { contactId?: string; via: string; note?: string } = { via: input.via };
      const who = actor(input);
      if (who) by.contactId = who;
      if (input.note) by.note = input.note.slice(0, 500);
      return (await engine.resolve(a.id, by, at)).alert;
    }),
    async alertForPhone(phone) {
      const normalized = phone.replace(/[\s-]/g, '');
      let best: { alertId: string; contactId: string; at: number } | undefined;
      for (const c of await store.findContactsByPhone(normalized)) {
        for (const a of await store.listAlerts({ homeId: c.homeId })) {
          if (a.status === 'resolved') continue;
          if (!(await store.listSendKeys(a.id)).some((k) => k.contactId === c.id)) continue;
          if (!best || a.openedAt > best.at) best = { alertId: a.id, contactId: c.id, at: a.openedAt };
        }
      }
      return best && { alertId: best.alertId, contactId: best.contactId };
    },
  };
}
