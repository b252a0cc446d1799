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
 *
 * Every alert message carries the alert's reply code (a letter and two
 * digits, e.g. `K27`); a reply may name it anywhere, with or without a space
 * or `#`: `1 K27`, `K27 1`, `1k27`, `向かいます K27 20分`. The code binds the
 * reply to exactly that alert (responder-impl.ts `bindReply`).
 */
import type { Language } from '../core/store.js';
import type { ReplyChoice } from './responder.js';

export type AckReply = (
  | { kind: 'acknowledge' }
  | { kind: 'on-my-way'; etaMinutes?: number }
  | { kind: 'unknown' }
) & {
  /** The alert's reply code named in the reply, upper case (`K27`). */
  code?: string;
};

/** A reply code as people type it (after normalisation): a letter and two digits, optionally after `#`. */
const codeToken = /^#?([a-z]\d{2})$/;

/** Takes the reply code out of a normalised reply: `1 k27` → `1` + `K27`; `1k27` too. */
function takeCode(s: string): { rest: string; code?: string } {
  const parts = s.split(' ');
  const i = parts.findIndex((p) => codeToken.test(p));
  if (i >= 0) {
    const code = codeToken.exec(parts[i]!)![1]!.toUpperCase();
    parts.splice(i, 1);
    return { rest: parts.join(' ').trim(), code };
  }
  const glued = /^([12])#?([a-z]\d{2})(?= |$)(.*)$/.exec(s);
  if (glued?.[1] && glued[2]) return { rest: `${glued[1]}${glued[3] ?? ''}`.trim(), code: glued[2].toUpperCase() };
  return { rest: s };
}

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
 * parseAckReply('1 k27')          // { kind: 'acknowledge', code: 'K27' }
 */
export function parseAckReply(body: string): AckReply {
  const { rest, code } = takeCode(normaliseReply(body));
  const parsed = parseWords(rest);
  return code === undefined ? parsed : { ...parsed, code };
}

function parseWords(s: string): AckReply {
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


/** 「K27 山田花子さん: 緊急ボタン…／M40 …」: labels shortened so the list stays short. */
function choiceList(cs: ReplyChoice[], lang: Language): string {
  const short = (s: string) => ([...s].length <= 24 ? s : `${[...s].slice(0, 23).join('')}…`);
  return cs.map((c) => `${c.code} ${short(c.label[lang])}`).join(lang === 'ja' ? '／' : ' / ');
}

/** SMS replies the hub sends back, per language. */
export const replyTexts: Record<Language, {
  help: string;
  acknowledged: string;
  onMyWay: (eta?: number) => string;
  noAlert: string;
  alreadyResolved: string;
  refused: string;
  /** Several alerts are open for this person and the reply named none: acknowledge nothing, ask which. */
  which: (choices: ReplyChoice[]) => string;
  /** The reply named a code that is none of this person's open alerts. */
  unknownCode: (code: string, choices: ReplyChoice[]) => string;
}> = {
  ja: {
    help: '【見守り】確認した方は「1」または「了解」、今から向かう方は「2」または「向かいます」を返信してください（到着予定の分数を添えられます。例:「2 20」）。',
    acknowledged: '【見守り】確認を受け付けました。ほかのご家族にも、あなたが対応することをお知らせします。',
    onMyWay: (eta) => `【見守り】向かっていただけることを受け付けました${eta ? `（約${eta}分で到着予定）` : ''}。お気をつけて。`,
    noAlert: '【見守り】いま対応が必要なお知らせはありません。',
    alreadyResolved: '【見守り】このお知らせはすでに解決済みです。ありがとうございます。',
    refused: '【見守り】受け付けられませんでした。お手数ですが、ダッシュボードからご確認ください。',
    which: (cs) => `【見守り】お知らせが${cs.length}件あります。どれへの返信か、記号を添えてください（例:「1 ${cs[0]?.code ?? ''}」）。${choiceList(cs, 'ja')}`,
    unknownCode: (code, cs) => `【見守り】記号「${code}」のお知らせは見つかりません。${cs.length ? `いまのお知らせ: ${choiceList(cs, 'ja')}` : ''}`,
  },
  en: {
    help: '[Mimamori] Reply 1 or OK if you have seen this, or 2 / "on my way" if you are going there (you can add minutes, e.g. "2 20").',
    acknowledged: '[Mimamori] Thank you, your acknowledgement is recorded. Everyone already told will hear that you are handling it.',
    onMyWay: (eta) => `[Mimamori] Thank you, we have noted that you are on your way${eta ? ` (about ${eta} min)` : ''}. Travel safely.`,
    noAlert: '[Mimamori] There is no alert that needs you right now.',
    alreadyResolved: '[Mimamori] This alert is already resolved. Thank you.',
    refused: '[Mimamori] That could not be recorded. Please check the dashboard.',
    which: (cs) => `[Mimamori] You have ${cs.length} open alerts. Please add the code to say which (e.g. "1 ${cs[0]?.code ?? ''}"): ${choiceList(cs, 'en')}`,
    unknownCode: (code, cs) => `[Mimamori] No alert has the code ${code}.${cs.length ? ` Your open alerts: ${choiceList(cs, 'en')}` : ''}`,
  },
};

/** What to send back when a reply was not understood. */
export function replyHelp(language: Language): string {
  return replyTexts[language].help;
}
