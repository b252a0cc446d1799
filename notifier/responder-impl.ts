/**
 * The AlertResponder (notifier/responder.ts) on top of the escalation engine:
 * checks the input (the alert exists, is not resolved, the person belongs to
 * the alert's home), then runs the change in the home's queue so it cannot
 * race an escalation step.
 */
import type { SchedulerLike } from 'rxjs';
import type { Alert, Contact, Store } from '../core/store.js';
import type { AlertResponder, ReplyBinding, ReplyChoice, ResponseInput, ResponseResult } from './responder.js';
import { isNotReached, type EscalationEngine } from './escalation-engine.js';

/** 「山田花子さん: 緊急ボタンが押されました」 / "Hanako: Help button pressed": what a "which one?" answer lists. */
function labelOf(a: Alert, residents: string[]): ReplyChoice['label'] {
  const f = a.finding as { message?: { ja?: string; en?: string } } | undefined;
  const names = residents.filter((n) => n.trim() !== '');
  return {
    ja: `${names.length ? `${names.map((n) => `${n}さん`).join('・')}: ` : ''}${f?.message?.ja ?? a.message}`,
    en: `${names.length ? `${names.join(' & ')}: ` : ''}${f?.message?.en ?? a.message}`,
  };
}

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

  /** Whether a message about the alert went to the contact (or is held for them): a send that did not fail. */
  async function wasSentTo(alertId: string, contactId: string): Promise<boolean> {
    const keys = (await store.listSendKeys(alertId)).filter((k) => k.contactId === contactId);
    if (keys.length === 0) return false;
    const notes = new Map((await store.listNotifications(alertId)).map((n) => [n.id, n.status]));
    return keys.some((k) => { const st = k.notificationId ? notes.get(k.notificationId) : undefined; return st === undefined || !isNotReached(st); });
  }

  /** Who acted, as the engine records it: a contact id, or `account:<id>` for a web account. */
  const actor = (input: ResponseInput): string | undefined => (input.account ? accountActor(input.account.id) : input.contactId);

  const responder: AlertResponder = {
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
    bindReply: async (phone, code) => bindFor(await store.findContactsByPhone(phone.replace(/[\s-]/g, '')), code),
    bindReplyFrom: async (from, code) => bindFor(await store.findContactsByAddress(from.kind, from.address), code),
  };
  return responder;

  /** Which alert an answer from these contacts (one person, maybe in several homes) is about (see `AlertResponder.bindReply`). */
  async function bindFor(senders: Contact[], code: string | undefined): Promise<ReplyBinding> {
    // The person's alerts, one entry per escalation (a group sent as one message counts once).
    const mine = new Map<string, { alertId: string; contactId: string; codes: Set<string>; code?: string; label: ReplyChoice['label'] }>();
    for (const c of senders) {
      const residents = (await store.listResidents(c.homeId)).map((r) => r.name);
      for (const a of await store.listAlerts({ homeId: c.homeId, unresolved: true })) {
        if (!(await wasSentTo(a.id, c.id))) continue;
        const t = await engine.replyTarget(a.id);
        const entry = mine.get(t.leader) ?? { alertId: t.leader, contactId: c.id, codes: new Set<string>(), label: labelOf(a, residents) };
        if (t.code) { entry.code = t.code; entry.codes.add(t.code); }
        if (t.ownCode) entry.codes.add(t.ownCode);
        if (a.id === t.leader) entry.label = labelOf(a, residents);
        mine.set(t.leader, entry);
      }
    }
    const all = [...mine.values()];
    const choices = all.filter((e) => e.code).map((e) => ({ code: e.code!, label: e.label }));
    if (code !== undefined) {
      const wanted = code.toUpperCase();
      const hit = all.filter((e) => e.codes.has(wanted));
      if (hit.length === 1) return { kind: 'one', alertId: hit[0]!.alertId, contactId: hit[0]!.contactId };
      return { kind: 'unknown-code', code: wanted, choices };
    }
    if (all.length === 0) return { kind: 'none' };
    if (all.length === 1) return { kind: 'one', alertId: all[0]!.alertId, contactId: all[0]!.contactId };
    return { kind: 'ambiguous', choices };
  }
}
