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
