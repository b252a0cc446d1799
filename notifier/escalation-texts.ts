/**
 * Text choice for the escalation: which words a message carries, picked by
 * the tier's traits (escalation-policy.ts `tierTraits`) and the channel's
 * nature — never by a tier or channel name. The words themselves live in
 * templates.ts and emergency-message.ts (Japanese and English).
 *
 * - a resident-prompt tier: "are you OK?" (`residentPromptText`);
 * - an alert tier: the group's findings with the reply code and the link
 *   (`groupedAlertText`, a backlog as one summary);
 * - an emergency tier: the emergency message with the address, the key box
 *   and who was tried — read aloud on a spoken channel (`Channel.spoken`),
 *   as an SMS text otherwise;
 * - follow-ups: "X is handling it", "X is on the way", reminders, the all-clear.
 */
import type { Finding } from '../core/findings.js';
import type { Alert, Language, Store } from '../core/store.js';
import type { Channel } from './channel.js';
import type { EscalationState, FollowUp } from './escalation-decide.js';
import { tierTraits, type Tier } from './escalation-policy.js';
import { emergencySmsText, emergencyVoiceText } from './emergency-message.js';
import type { SendLedger } from './send-ledger.js';
import { acknowledgedText, groupedAlertText, onMyWayText, personName, reminderText, residentPromptText, resolvedByText, resolvedText, type AlertContext, type AlertExtras } from './templates.js';

/** A message in each language, for the channel it goes out on. */
export type TextFor = (lang: Language, channel: string) => string;

export interface EscalationTexts {
  /** The home's names and time zone for the templates. */
  context(homeId: string): Promise<AlertContext>;
  /** A person's name as the others read it (a contact, or a web account acting from the dashboards). */
  nameOf(homeId: string, contactId: string | undefined, lang: Language): Promise<string>;
  /** A tier's message about the group's open `alerts` (the leader first). */
  page(tier: Tier, alerts: Alert[], state: EscalationState, leader: { alertId: string; homeId: string }, now: number): Promise<TextFor>;
  /** A follow-up to those already told: who is handling it, or who is on the way (with the ETA). */
  followUp(message: FollowUp, homeId: string, by: string | undefined, etaAt: number, at: number): Promise<TextFor>;
  /** A reminder to the person handling the alert. */
  reminder(alert: Alert, homeId: string, at: number): Promise<TextFor>;
  /** The all-clear: calm words when the finding cleared, or who resolved it and their note. */
  resolved(homeId: string, by: { contactId?: string | undefined; note?: string | undefined; cleared?: Finding | undefined }, at: number): Promise<TextFor>;
}

export function createEscalationTexts(o: {
  store: Store; channels: ReadonlyMap<string, Channel>; ledger: Pick<SendLedger, 'tried'>;
  /** A page with an alert's full explanation, linked from its messages when it fits. */
  alertLink?: ((alertId: string) => string | undefined) | undefined;
}): EscalationTexts {
  const { store } = o;

  async function context(homeId: string): Promise<AlertContext> {
    const [home, residents] = await Promise.all([store.getHome(homeId), store.listResidents(homeId)]);
    return { residentNames: residents.map((r) => r.name), homeName: home?.name ?? homeId, timezone: home?.timezone ?? 'Asia/Tokyo' };
  }

  async function nameOf(homeId: string, contactId: string | undefined, lang: Language): Promise<string> {
    if (!contactId) return personName(undefined, lang);
    // A web account acting from the dashboards (see responder-impl.ts accountActor).
    if (contactId.startsWith('account:')) return personName((await store.getAccount(contactId.slice('account:'.length)))?.name, lang);
    const c = (await store.listContacts(homeId)).find((x) => x.id === contactId);
    return personName(c?.name, lang, c?.role === 'resident');
  }

  const names = async (homeId: string, by: string | undefined) => ({ ja: await nameOf(homeId, by, 'ja'), en: await nameOf(homeId, by, 'en') });

  return {
    context,
    nameOf,

    async page(tier, alerts, state, leader, now) {
      const findings = alerts.map((a) => a.finding as Finding);
      const kind = tierTraits[tier.name].message;
      if (kind === 'resident-prompt') return (lang) => residentPromptText(lang);
      const ctx = await context(leader.homeId);
      if (kind === 'emergency') {
        const [home, residents, contacts] = await Promise.all([store.getHome(leader.homeId), store.listResidents(leader.homeId), store.listContacts(leader.homeId)]);
        const facts = { home: home ?? { id: leader.homeId, name: leader.homeId, timezone: ctx.timezone, createdAt: 0 }, residents, finding: findings[0]!, since: Math.min(...alerts.map((a) => a.openedAt)), tried: await o.ledger.tried(alerts[0]!.id, contacts), at: now };
        return (lang, channel) => (o.channels.get(channel)?.spoken ? emergencyVoiceText(facts, lang) : emergencySmsText(facts, lang));
      }
      const extra: AlertExtras = {};
      if (state.code) extra.code = state.code;
      const link = o.alertLink?.(leader.alertId);
      if (link) extra.link = link;
      return (lang) => groupedAlertText(findings, ctx, lang, state.backlog === true, extra);
    },

    async followUp(message, homeId, by, etaAt, at) {
      const ctx = await context(homeId);
      const n = await names(homeId, by);
      return message === 'on-my-way' ? (lang) => onMyWayText(n[lang], etaAt, ctx, at, lang) : (lang) => acknowledgedText(n[lang], ctx, at, lang);
    },

    async reminder(alert, homeId, at) {
      const ctx = await context(homeId);
      const f = alert.finding as Finding;
      return (lang) => reminderText(f, ctx, at, lang);
    },

    async resolved(homeId, by, at) {
      const ctx = await context(homeId);
      const cleared = by.cleared;
      if (cleared) return (lang) => resolvedText(cleared, ctx, lang);
      const n = await names(homeId, by.contactId);
      return (lang) => resolvedByText(n[lang], by.note, ctx, at, lang);
    },
  };
}
