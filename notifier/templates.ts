/**
 * Alert message text, in the recipient's language (Japanese or English).
 * Built only from the finding's explanation (message / expected / observed),
 * the resident's name, the home's name and the local time — never the
 * address, entry notes, key-box instructions or anything secret, because an
 * SMS can be read over a shoulder or on a lock screen.
 */
import type { Finding } from '../core/findings.js';
import type { Language } from '../core/store.js';
import { formatClockTime, localTime } from '../core/time.js';
import { fitSegments, smsSegments, summaryCharsThatFit } from './sms-segments.js';

/** Who and where an alert is about. */
export interface AlertContext {
  /** Resident names as stored; several residents are joined. */
  residentNames: string[];
  homeName: string;
  timezone: string;
}

/** What an alert message carries besides the finding: its reply code, and a link to the full explanation. */
export interface AlertExtras {
  /** The alert's short reply code (e.g. `K27`): a reply "1 K27" acknowledges exactly this alert. */
  code?: string;
  /** A page with the full explanation (expected / observed, timeline), when the hub has one to link. */
  link?: string;
}

/**
 * Every message to a person fits in two SMS segments (134 characters of
 * Japanese, 306 of plain English; sms-segments.ts): the explanation
 * (expected / observed) is left to the web page, and a long summary is
 * shortened, never the name, the time or how to answer. The emergency
 * tier's message is the one exception (emergency-message.ts says why).
 */
export const smsMaxSegments = 2;

const hhmm = (at: number, timezone: string): string => formatClockTime(localTime(at, timezone).minuteOfDay);

/** The resident(s) by name, e.g. 「山田花子さん」 / "Hanako"; the home's name when none is stored. */
function who(ctx: AlertContext, lang: Language): string {
  const names = ctx.residentNames.filter((n) => n.trim() !== '');
  if (names.length === 0) return ctx.homeName;
  return lang === 'ja' ? names.map((n) => `${n}さん`).join('・') : names.join(' & ');
}

/**
 * Fits the pieces into two segments: first drops the explanation, then
 * shortens the summary. The head and the tail (name, time, how to answer) are
 * always kept.
 */
function fit(head: string, summary: string, explanation: string, tail: string): string {
  const full = `${head}${summary}${explanation}${tail}`;
  if (smsSegments(full) <= smsMaxSegments) return full;
  return fitSegments((s) => `${head}${s}${tail}`, summary, smsMaxSegments);
}

/** How to answer: 「返信「1 K27」で確認、「2 K27」で向かいます」 / 'Reply "1 K27" if seen, "2 K27" if on your way'. */
export function answerHint(lang: Language, code?: string): string {
  const c = code ? ` ${code}` : '';
  return lang === 'ja' ? `返信「1${c}」で確認、「2${c}」で向かいます` : `Reply "1${c}" if seen, "2${c}" if on your way`;
}

/** The time, unless the summary already says it (the help button's does: 「19:42 に緊急ボタンが押されました」). */
const whenPart = (summary: string, time: string, lang: Language): string => (summary.includes(time) ? '' : lang === 'ja' ? `（${time}）` : ` (${time})`);

/**
 * An alert message: who, what, when, how to answer (with the reply code), and
 * the link when there is one and it leaves room for what happened.
 */
function alertMessage(urgent: boolean, summary: string, time: string, ctx: AlertContext, lang: Language, extra: AlertExtras): string {
  const build = (link: string | undefined) => (s: string): string => (lang === 'ja'
    ? `${urgent ? '【見守り・緊急】' : '【見守り】'}${who(ctx, 'ja')}: ${s}${whenPart(s, time, 'ja')}。${answerHint('ja', extra.code)}${link ? ` ${link}` : ''}`
    : `${urgent ? '[Mimamori URGENT] ' : '[Mimamori] '}${who(ctx, 'en')}: ${s}${whenPart(s, time, 'en')}. ${answerHint('en', extra.code)}.${link ? ` ${link}` : ''}`);
  const link = extra.link;
  // The link explains more; it may not push out what happened (at least 20 characters of it stay).
  const withLink = link !== undefined && summaryCharsThatFit(build(link), summary, smsMaxSegments) >= Math.min([...summary].length, 20);
  return fitSegments(build(withLink ? link : undefined), summary, smsMaxSegments);
}

/**
 * The first SMS of a new alert, e.g.
 * 「【見守り・緊急】山田花子さん: 19:42 に緊急ボタンが押されました。返信「1 K27」で確認、「2 K27」で向かいます」.
 * No device ids, no expected / observed scaffolding: the web page has those.
 */
export function alertText(f: Finding, ctx: AlertContext, lang: Language, extra: AlertExtras = {}): string {
  return alertMessage(f.severity === 'critical', f.message[lang], hhmm(f.at, ctx.timezone), ctx, lang, extra);
}

/** The calm follow-up when the condition behind an alert has ended, by rule type. */
const followUps: Record<string, { ja: string; en: string }> = {
  noSignOfLife: { ja: '動きがありました。ご安心ください。', en: 'There is movement again. All is well now.' },
  helpButton: { ja: '「大丈夫」ボタンが押されました。ご安心ください。', en: 'The "I\'m OK" button was pressed. All is well now.' },
  flowWithoutMotion: { ja: '水・ガスの流れが止まったか、動きがありました。ご安心ください。', en: 'The water/gas flow stopped or there is movement again. All is well now.' },
  nightDoor: { ja: 'ご本人が戻られたようです。ご安心ください。', en: 'The resident seems to be back home. All is well now.' },
};
const genericFollowUp = { ja: '状況が元に戻りました。', en: 'The situation is back to normal.' };

/**
 * The follow-up SMS when an alert resolves by itself, e.g.
 * 「【見守り】山田花子さん（山田さん宅）: 動きがありました。ご安心ください。 10:12」.
 */
export function resolvedText(cleared: Finding, ctx: AlertContext, lang: Language): string {
  const text = (followUps[cleared.type] ?? genericFollowUp)[lang];
  const time = hhmm(cleared.at, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り】${who(ctx, 'ja')}: `, text, '', ` ${time}`)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, text, '', ` ${time}`);
}

/**
 * Device-health text for the operator: the home and device ids, not the
 * resident's name (the operator needs the device, not the person).
 */
export function operatorText(f: Finding, timezone: string, lang: Language, resolved = false): string {
  const time = hhmm(f.at, timezone);
  const device = f.device ? `/${f.device}` : '';
  if (lang === 'ja') {
    const head = `【見守り運用${resolved ? '・復旧' : ''}】${f.home}${device}: `;
    return fit(head, f.message.ja, resolved ? '' : ` (予想: ${f.expected.ja}／実際: ${f.observed.ja})`, ` ${time}`);
  }
  const head = `[Mimamori ops${resolved ? ' resolved' : ''}] ${f.home}${device}: `;
  return fit(head, f.message.en, resolved ? '' : ` (expected: ${f.expected.en}; observed: ${f.observed.en})`, ` ${time}`);
}

// ── Escalation messages (issue 3): grouping, acknowledgement, on my way, reminders, resident prompt ──

/** A short label for one alert inside a grouped message. */
function summaryOf(f: Finding, lang: Language): string {
  return f.message[lang];
}

/**
 * One message for several alerts of one home that arrived together (or a
 * backlog after an outage, `backlog: true`), with the group's reply code, e.g.
 * 「【見守り】山田花子さん: 2件 ①…／②…（19:42）。返信「1 K27」で確認、「2 K27」で向かいます」.
 */
export function groupedAlertText(fs: Finding[], ctx: AlertContext, lang: Language, backlog = false, extra: AlertExtras = {}): string {
  const first = fs[0];
  if (!first) return '';
  if (fs.length === 1 && !backlog) return alertText(first, ctx, lang, extra);
  const urgent = fs.some((f) => f.severity === 'critical');
  const time = hhmm(Math.max(...fs.map((f) => f.at)), ctx.timezone);
  const marks = '①②③④⑤⑥⑦⑧⑨⑩';
  const summary = lang === 'ja'
    ? `${backlog ? '通信が途絶えていた間に' : ''}${fs.length}件 ${fs.map((f, i) => `${marks[i] ?? `(${i + 1})`}${summaryOf(f, 'ja')}`).join('／')}`
    : `${fs.length} alerts${backlog ? ' while the hub was offline' : ''}: ${fs.map((f, i) => `${i + 1}) ${summaryOf(f, 'en')}`).join('; ')}`;
  return alertMessage(urgent, summary, time, ctx, lang, extra);
}

/** "Are you OK?" for the resident, on the home tablet or read out on the home phone (press 1 if OK). */
export function residentPromptText(lang: Language): string {
  return lang === 'ja'
    ? '見守りからのお知らせです。大丈夫ですか？大丈夫でしたら、画面の「大丈夫」を押すか、電話の1を押してください。'
    : 'This is Mimamori. Are you all right? If you are OK, press "I\'m OK" on the screen, or press 1 on the phone.';
}

/** Someone's display name in the message, e.g. 「山田太郎さん」 / "Taro". The resident is "ご本人". */
export function personName(name: string | undefined, lang: Language, isResident = false): string {
  if (isResident) return lang === 'ja' ? 'ご本人' : 'The resident';
  if (!name) return lang === 'ja' ? '担当者' : 'Someone';
  return lang === 'ja' ? `${name}さん` : name;
}

/** Everyone already told hears who is handling it, e.g. 「【見守り】…: 山田太郎さんが対応しています。 19:50」. */
export function acknowledgedText(by: string, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り】${who(ctx, 'ja')}: `, `${by}が対応しています。`, '', ` ${time}`)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, `${by} is handling it.`, '', ` ${time}`);
}

/** "On my way" news for the others, with the expected arrival in the home's local time. */
export function onMyWayText(by: string, etaAt: number, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone), eta = hhmm(etaAt, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り】${who(ctx, 'ja')}: `, `${by}が向かっています（${eta}頃到着予定）。`, '', ` ${time}`)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, `${by} is on the way (expected by ${eta}).`, '', ` ${time}`);
}

/** A reminder to the person handling an alert that is still not resolved (only the alert's summary is ever shortened). */
export function reminderText(f: Finding, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone);
  return lang === 'ja'
    ? fitSegments((s) => `【見守り・確認】${who(ctx, 'ja')}: 対応中の「${s}」は未解決です。様子を教えてください。 ${time}`, f.message.ja, smsMaxSegments)
    : fitSegments((s) => `[Mimamori reminder] ${who(ctx, 'en')}: "${s}" is still not resolved. Please let us know how things are. ${time}`, f.message.en, smsMaxSegments);
}

/** Closed by a person, to everyone who was told, e.g. 「…: 山田太郎さんが対応を完了しました（メモ: 転倒なし）。」. */
export function resolvedByText(by: string, note: string | undefined, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り】${who(ctx, 'ja')}: `, `${by}が対応を完了しました。`, note ? `（メモ: ${note}）` : '', ` ${time}`)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, `${by} has dealt with it.`, note ? ` (note: ${note})` : '', ` ${time}`);
}

/**
 * The one summary a person gets for the messages their budget held, e.g.
 * 「【見守り】山田花子さん: 送りすぎを防ぐため5件のお知らせを控えました。対応が必要: K27 浴室の水が…。返信「1 K27」で確認」.
 */
export function budgetSummaryText(held: number, open: Array<{ code?: string; summary: string }>, ctx: AlertContext, lang: Language): string {
  const list = open.map((o) => `${o.code ? `${o.code} ` : ''}${o.summary}`).join(lang === 'ja' ? '／' : ' / ');
  const code = open.find((o) => o.code)?.code;
  if (lang === 'ja') {
    const head = `【見守り】${who(ctx, 'ja')}: 送りすぎを防ぐため${held}件のお知らせを控えました。`;
    if (open.length === 0) return `${head}いずれも解決済みです。`;
    return fitSegments((s) => `${head}対応が必要: ${s}。${answerHint('ja', open.length === 1 ? code : undefined).replace(/、.*$/, '')}${open.length > 1 ? '（記号を添えて）' : ''}`, list, smsMaxSegments);
  }
  const head = `[Mimamori] ${who(ctx, 'en')}: to avoid too many texts, ${held} messages were held.`;
  if (open.length === 0) return `${head} All of them are resolved now.`;
  return fitSegments((s) => `${head} Still open: ${s}. ${answerHint('en', open.length === 1 ? code : undefined).replace(/, .*$/, '')}${open.length > 1 ? ' with the code' : ''}.`, list, smsMaxSegments);
}
