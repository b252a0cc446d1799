/**
 * An alert's timeline (issue 14): raised, each notification (who, when, by
 * which channel, delivered or not), each answer (who, what, how, when),
 * closed. One source for the family page's alert cards (views.ts) and the
 * monthly report (monthly-report-data.ts, monthly-report-pdf.ts), so the card
 * and the paper say the same thing in the same words.
 */
import type { Localized } from '../core/findings.js';
import type { Alert, Language, Store } from '../core/store.js';

/** One step of an alert's timeline, oldest first. */
export type TimelineStep =
  | { at: number; kind: 'opened' }
  | { at: number; kind: 'notified'; who: string; channel: string; status: string }
  | { at: number; kind: 'answered'; who: string; action: string; via: string }
  | { at: number; kind: 'closed' };

/** Names of a home's contacts (the notifier's records) and web accounts (the web app's answers), looked up once each. */
export interface TimelineNames { contact(id?: string): string; account(id: string): Promise<string> }

/** The name resolver for one home's timelines; unknown people show as "?". */
export async function timelineNames(store: Store, homeId: string): Promise<TimelineNames> {
  const contacts = new Map((await store.listContacts(homeId)).map((c) => [c.id, c.name]));
  const accounts = new Map<string, string>();
  return {
    contact: (id) => (id === undefined ? '?' : contacts.get(id) ?? '?'),
    async account(id) {
      if (!accounts.has(id)) accounts.set(id, (await store.getAccount(id))?.name ?? '?');
      return accounts.get(id)!;
    },
  };
}

/** Who was told, when and how, and who answered: from the notifier's records and the web app's responses, oldest first. */
export async function timelineOf(store: Store, a: Alert, names: TimelineNames): Promise<TimelineStep[]> {
  const steps: TimelineStep[] = [{ at: a.openedAt, kind: 'opened' }];
  for (const n of await store.listNotifications(a.id)) steps.push({ at: n.createdAt, kind: 'notified', who: names.contact(n.contactId), channel: n.channel, status: n.status });
  const life = await store.getAlertLifecycle(a.id);
  if (life?.acknowledgedBy && life.acknowledgedVia && life.acknowledgedVia !== 'dashboard' && life.acknowledgedAt !== undefined) {
    steps.push({ at: life.acknowledgedAt, kind: 'answered', who: names.contact(life.acknowledgedBy), action: 'acknowledge', via: life.acknowledgedVia });
  }
  for (const r of await store.listAlertResponses(a.id)) steps.push({ at: r.at, kind: 'answered', who: await names.account(r.accountId), action: r.action, via: 'dashboard' });
  if (a.closedAt !== undefined) steps.push({ at: a.closedAt, kind: 'closed' });
  return steps.sort((x, y) => x.at - y.at);
}

const channelNames: Record<string, Localized> = {
  sms: { ja: 'SMS', en: 'SMS' }, voice: { ja: '電話', en: 'phone call' }, email: { ja: 'メール', en: 'e-mail' }, line: { ja: 'LINE', en: 'LINE' },
  push: { ja: 'プッシュ通知', en: 'push notification' }, tablet: { ja: 'タブレット', en: 'tablet' }, dashboard: { ja: 'ウェブ', en: 'web app' },
  'web-link': { ja: 'メールのリンク', en: 'e-mail link' }, door: { ja: '玄関センサー', en: 'front door sensor' },
};
/** A channel or "via" id in words (unknown ids are shown as they are). */
export function channelName(id: string, lang: Language): string {
  return channelNames[id]?.[lang] ?? id;
}

const actionWords: Record<string, Localized> = {
  acknowledge: { ja: '確認しました', en: 'acknowledged' }, 'on-my-way': { ja: '向かっています', en: 'on the way' },
  arrived: { ja: '到着しました', en: 'arrived' }, resolve: { ja: '解決しました', en: 'resolved' },
};
const deliveryWords: Record<string, Localized> = {
  queued: { ja: '送信待ち', en: 'queued' }, sent: { ja: '送信済み', en: 'sent' }, delivered: { ja: '配達済み', en: 'delivered' },
  failed: { ja: '失敗', en: 'failed' }, undelivered: { ja: '不達', en: 'not delivered' }, completed: { ja: '通話済み', en: 'answered' },
  'no-answer': { ja: '応答なし', en: 'no answer' }, busy: { ja: '話し中', en: 'busy' },
};

/**
 * One step in words, after its time as `when` writes it:
 * 「11/21 09:01 山田 一郎 さんにSMSで連絡（配達済み）」 / "11/21 09:01 山田 一郎 told by SMS (delivered)".
 */
export function timelineLine(s: TimelineStep, lang: Language, when: (at: number) => string): string {
  switch (s.kind) {
    case 'opened': return lang === 'ja' ? `${when(s.at)} アラート発生` : `${when(s.at)} alert raised`;
    case 'notified': {
      const how = channelName(s.channel, lang); const st = deliveryWords[s.status]?.[lang] ?? s.status;
      return lang === 'ja' ? `${when(s.at)} ${s.who} さんに${how}で連絡（${st}）` : `${when(s.at)} ${s.who} told by ${how} (${st})`;
    }
    case 'answered': {
      const did = actionWords[s.action]?.[lang] ?? s.action; const how = channelName(s.via, lang);
      return lang === 'ja' ? `${when(s.at)} ${s.who} さんが${how}で「${did}」` : `${when(s.at)} ${s.who} ${did} (${how})`;
    }
    case 'closed': return lang === 'ja' ? `${when(s.at)} 終了` : `${when(s.at)} closed`;
  }
}
