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

/** Who and where an alert is about. */
export interface AlertContext {
  /** Resident names as stored; several residents are joined. */
  residentNames: string[];
  homeName: string;
  timezone: string;
}

/** Keep Japanese SMS within about four UCS-2 segments, and English within two GSM ones. */
export const smsTargetChars: Record<Language, number> = { ja: 300, en: 320 };

const hhmm = (at: number, timezone: string): string => formatClockTime(localTime(at, timezone).minuteOfDay);

function who(ctx: AlertContext, lang: Language): string {
  const names = ctx.residentNames.filter((n) => n.trim() !== '');
  if (names.length === 0) return ctx.homeName;
  return lang === 'ja' ? `${names.map((n) => `${n}さん`).join('・')}（${ctx.homeName}）` : `${names.join(' & ')} (${ctx.homeName})`;
}

const cut = (s: string, max: number): string => ([...s].length <= max ? s : `${[...s].slice(0, Math.max(0, max - 1)).join('')}…`);

/**
 * Fits the pieces into `max` characters: first drops the explanation, then
 * shortens the summary. The header and the time are always kept.
 */
function fit(head: string, summary: string, explanation: string, tail: string, max: number): string {
  const full = `${head}${summary}${explanation}${tail}`;
  if ([...full].length <= max) return full;
  const noExplanation = `${head}${summary}${tail}`;
  if ([...noExplanation].length <= max) return noExplanation;
  return `${head}${cut(summary, max - [...head].length - [...tail].length)}${tail}`;
}

/**
 * The first SMS of a new alert, e.g.
 * 「【見守り】山田花子さん（山田さん宅）: 60分以上、浴室の水が流れたままで動きがありません (予想: …／実際: …) 19:42」.
 */
export function alertText(f: Finding, ctx: AlertContext, lang: Language): string {
  const urgent = f.severity === 'critical';
  const time = hhmm(f.at, ctx.timezone);
  if (lang === 'ja') {
    const head = `${urgent ? '【見守り・緊急】' : '【見守り】'}${who(ctx, 'ja')}: `;
    return fit(head, f.message.ja, ` (予想: ${f.expected.ja}／実際: ${f.observed.ja})`, ` ${time}`, smsTargetChars.ja);
  }
  const head = `${urgent ? '[Mimamori URGENT] ' : '[Mimamori] '}${who(ctx, 'en')}: `;
  return fit(head, f.message.en, ` (expected: ${f.expected.en}; observed: ${f.observed.en})`, ` ${time}`, smsTargetChars.en);
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
    ? fit(`【見守り】${who(ctx, 'ja')}: `, text, '', ` ${time}`, smsTargetChars.ja)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, text, '', ` ${time}`, smsTargetChars.en);
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
    return fit(head, f.message.ja, resolved ? '' : ` (予想: ${f.expected.ja}／実際: ${f.observed.ja})`, ` ${time}`, smsTargetChars.ja);
  }
  const head = `[Mimamori ops${resolved ? ' resolved' : ''}] ${f.home}${device}: `;
  return fit(head, f.message.en, resolved ? '' : ` (expected: ${f.expected.en}; observed: ${f.observed.en})`, ` ${time}`, smsTargetChars.en);
}

// ── Escalation messages (issue 3): grouping, acknowledgement, on my way, reminders, resident prompt ──

/** A short label for one alert inside a grouped message. */
function summaryOf(f: Finding, lang: Language): string {
  return f.message[lang];
}

/**
 * One message for several alerts of one home that arrived together (or a
 * backlog after an outage, `backlog: true`), e.g.
 * 「【見守り・緊急】山田花子さん（山田さん宅）: 2件 — ①…／②… 19:42」.
 */
export function groupedAlertText(fs: Finding[], ctx: AlertContext, lang: Language, backlog = false): string {
  const first = fs[0];
  if (!first) return '';
  if (fs.length === 1 && !backlog) return alertText(first, ctx, lang);
  const urgent = fs.some((f) => f.severity === 'critical');
  const time = hhmm(Math.max(...fs.map((f) => f.at)), ctx.timezone);
  const marks = '①②③④⑤⑥⑦⑧⑨⑩';
  if (lang === 'ja') {
    const head = `${urgent ? '【見守り・緊急】' : '【見守り】'}${who(ctx, 'ja')}: ${backlog ? '通信が途絶えていた間に' : ''}${fs.length}件 — `;
    return fit(head, fs.map((f, i) => `${marks[i] ?? `(${i + 1})`}${summaryOf(f, 'ja')}`).join('／'), '', ` ${time}`, smsTargetChars.ja);
  }
  const head = `${urgent ? '[Mimamori URGENT] ' : '[Mimamori] '}${who(ctx, 'en')}: ${fs.length} alerts${backlog ? ' while the hub was offline' : ''} — `;
  return fit(head, fs.map((f, i) => `${i + 1}) ${summaryOf(f, 'en')}`).join('; '), '', ` ${time}`, smsTargetChars.en);
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
    ? fit(`【見守り】${who(ctx, 'ja')}: `, `${by}が対応しています。`, '', ` ${time}`, smsTargetChars.ja)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, `${by} is handling it.`, '', ` ${time}`, smsTargetChars.en);
}

/** "On my way" news for the others, with the expected arrival in the home's local time. */
export function onMyWayText(by: string, etaAt: number, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone), eta = hhmm(etaAt, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り】${who(ctx, 'ja')}: `, `${by}が向かっています（${eta}頃到着予定）。`, '', ` ${time}`, smsTargetChars.ja)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, `${by} is on the way (expected by ${eta}).`, '', ` ${time}`, smsTargetChars.en);
}

/** A reminder to the person handling an alert that is still not resolved. */
export function reminderText(f: Finding, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り・確認】${who(ctx, 'ja')}: `, `対応中の「${f.message.ja}」はまだ解決になっていません。様子を教えてください。`, '', ` ${time}`, smsTargetChars.ja)
    : fit(`[Mimamori reminder] ${who(ctx, 'en')}: `, `"${f.message.en}" is still not resolved. Please let us know how things are.`, '', ` ${time}`, smsTargetChars.en);
}

/** Closed by a person, to everyone who was told, e.g. 「…: 山田太郎さんが対応を完了しました（メモ: 転倒なし）。」. */
export function resolvedByText(by: string, note: string | undefined, ctx: AlertContext, at: number, lang: Language): string {
  const time = hhmm(at, ctx.timezone);
  return lang === 'ja'
    ? fit(`【見守り】${who(ctx, 'ja')}: `, `${by}が対応を完了しました。`, note ? `（メモ: ${note}）` : '', ` ${time}`, smsTargetChars.ja)
    : fit(`[Mimamori] ${who(ctx, 'en')}: `, `${by} has dealt with it.`, note ? ` (note: ${note})` : '', ` ${time}`, smsTargetChars.en);
}
