/**
 * Reads an SMS reply to an alert. People answer on a phone keyboard, often
 * in full-width characters (１, ＯＫ) or kana, so the text is normalised
 * (NFKC, case, spaces, trailing punctuation) before it is matched:
 *
 * | reply | meaning |
 * | --- | --- |
 * | `1`, `OK`, `了解`, `りょうかい`, `確認`, `yes`, `ack` | acknowledge |
 * | `2`, `向かいます`, `on my way`, `omw` — optionally followed by minutes (`2 20`, `向かいます 20分`, `on my way 20 min`) | on my way, with an ETA |
 * | anything else | not understood: answer with `replyHelp` in the sender's language |
 */
import type { Language } from '../core/store.js';

export type AckReply =
  | { kind: 'acknowledge' }
  | { kind: 'on-my-way'; etaMinutes?: number }
  | { kind: 'unknown' };

const ackWords = new Set(['1', 'ok', 'okay', 'ok了解', '了解', '了解です', '了解しました', 'りょうかい', 'りょうかいです', 'リョウカイ', '確認', '確認しました', 'かくにん', 'はい', 'yes', 'ack', 'acknowledge', 'got it', 'roger']);
const onMyWayWords = ['2', '向かいます', '向かっています', '今から向かいます', 'いまから向かいます', 'むかいます', 'いきます', '行きます', '今から行きます', 'on my way', 'omw', 'coming', 'on the way', 'im on my way', 'i am on my way'];
/** Longest first, so "今から向かいます" wins over "向かいます". */
const onMyWaySorted = [...onMyWayWords].sort((a, b) => b.length - a.length);

/** Full-width to ASCII, lower case, one space, no trailing punctuation or apostrophes. */
export function normaliseReply(body: string): string {
  return body
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’'`]/g, '')
    .replace(/[\s\u3000]+/g, ' ')
    .trim()
    .replace(/[。、．.!！?？,，~〜ー-]+$/u, '')
    .trim();
}

/** "20", "20分", "20 min", "20 minutes", "20mins", "約20分" → 20. */
function minutes(rest: string): number | undefined | false {
  const s = rest.replace(/^[\s,、:：]+/, '').trim();
  if (s === '') return undefined;
  const m = /^(?:約|about |in )?(\d{1,3}) ?(?:分|ふん|ぷん|m|min|mins|minute|minutes)?(?:で着きます|で到着|後|ほど|くらい|ぐらい)?$/.exec(s);
  if (!m?.[1]) return false;
  const n = Number(m[1]);
  return n > 0 && n <= 600 ? n : false;
}

/**
 * Parses a reply.
 *
 * @example
 * parseAckReply('１')            // { kind: 'acknowledge' }
 * parseAckReply('向かいます 20分') // { kind: 'on-my-way', etaMinutes: 20 }
 */
export function parseAckReply(body: string): AckReply {
  const s = normaliseReply(body);
  if (ackWords.has(s)) return { kind: 'acknowledge' };
  for (const word of onMyWaySorted) {
    if (!s.startsWith(word)) continue;
    const rest = s.slice(word.length);
    // "2" followed by a digit is "25", not "2" then 5 minutes; the minutes need a separator.
    if (/^\d/.test(word) && rest !== '' && !/^[\s,、:：]/.test(rest)) continue;
    const eta = minutes(rest);
    if (eta === false) continue;
    return eta === undefined ? { kind: 'on-my-way' } : { kind: 'on-my-way', etaMinutes: eta };
  }
  return { kind: 'unknown' };
}

const japanese = /[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]/u;
const latin = /[a-z]/i;

/**
 * The language to answer in: the sender's known language, else the script
 * they wrote in, else their country code (+81 → Japanese), else Japanese.
 */
export function replyLanguage(body: string, phone?: string, known?: Language): Language {
  if (known) return known;
  if (japanese.test(body)) return 'ja';
  if (latin.test(body)) return 'en';
  if (phone && !phone.startsWith('+81')) return 'en';
  return 'ja';
}

/** SMS replies the hub sends back, per language. */
export const replyTexts: Record<Language, {
  help: string;
  acknowledged: string;
  onMyWay: (eta?: number) => string;
  noAlert: string;
  alreadyResolved: string;
  refused: string;
}> = {
  ja: {
    help: '【見守り】確認した方は「1」または「了解」、今から向かう方は「2」または「向かいます」を返信してください（到着予定の分数を添えられます。例:「2 20」）。',
    acknowledged: '【見守り】確認を受け付けました。ほかのご家族にも、あなたが対応することをお知らせします。',
    onMyWay: (eta) => `【見守り】向かっていただけることを受け付けました${eta ? `（約${eta}分で到着予定）` : ''}。お気をつけて。`,
    noAlert: '【見守り】いま対応が必要なお知らせはありません。',
    alreadyResolved: '【見守り】このお知らせはすでに解決済みです。ありがとうございます。',
    refused: '【見守り】受け付けられませんでした。お手数ですが、ダッシュボードからご確認ください。',
  },
  en: {
    help: '[Mimamori] Reply 1 or OK if you have seen this, or 2 / "on my way" if you are going there (you can add minutes, e.g. "2 20").',
    acknowledged: '[Mimamori] Thank you, your acknowledgement is recorded. Everyone already told will hear that you are handling it.',
    onMyWay: (eta) => `[Mimamori] Thank you, we have noted that you are on your way${eta ? ` (about ${eta} min)` : ''}. Travel safely.`,
    noAlert: '[Mimamori] There is no alert that needs you right now.',
    alreadyResolved: '[Mimamori] This alert is already resolved. Thank you.',
    refused: '[Mimamori] That could not be recorded. Please check the dashboard.',
  },
};

/** What to send back when a reply was not understood. */
export function replyHelp(language: Language): string {
  return replyTexts[language].help;
}
