/**
 * How many SMS segments a text costs, the way carriers count them (3GPP TS
 * 23.038 / 23.040): a text made only of GSM 7-bit characters is sent in
 * GSM-7 (160 septets in one segment, 153 per segment when split, characters
 * of the extension table such as `[`, `]`, `{`, `€` cost two); anything else
 * (Japanese, emoji, most accented letters) makes the whole text UCS-2 (70
 * UTF-16 units in one segment, 67 per segment when split). So a Japanese SMS
 * of two segments holds at most 134 characters, an English one 306 — unless
 * it carries a Japanese name, which makes it UCS-2 as well.
 */

/** GSM 03.38 basic character set (one septet each). */
const gsmBasic = new Set([...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà']);
/** GSM 03.38 extension table (escape + character: two septets each). */
const gsmExtension = new Set([...'^{}\\[~]|€\f']);

export interface SmsSize {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

/**
 * The encoding, size and segment count of one SMS body.
 *
 * @example
 * smsSize('Hello').segments            // 1 (GSM-7)
 * smsSize('あ'.repeat(71)).segments     // 2 (UCS-2: 67 + 4)
 */
export function smsSize(text: string): SmsSize {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (gsmBasic.has(ch)) septets += 1;
    else if (gsmExtension.has(ch)) septets += 2;
    else { gsm = false; break; }
  }
  if (gsm) return { encoding: 'GSM-7', units: septets, segments: septets === 0 ? 1 : septets <= 160 ? 1 : Math.ceil(septets / 153) };
  const units = text.length; // UTF-16 code units: an emoji outside the BMP costs two, as on the air
  return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

/** Segments of one SMS body (see `smsSize`). */
export const smsSegments = (text: string): number => smsSize(text).segments;

/** An ellipsis that does not turn a GSM-7 text into UCS-2 (which would halve what fits). */
const ellipsisFor = (text: string): string => (smsSize(text).encoding === 'GSM-7' ? '...' : '…');

/**
 * How many characters of `summary` fit when `build` wraps it (with an
 * ellipsis when shortened) in `maxSegments`: all of them when the whole fits.
 */
export function summaryCharsThatFit(build: (summary: string) => string, summary: string, maxSegments: number): number {
  const chars = [...summary];
  const full = build(summary);
  if (smsSegments(full) <= maxSegments) return chars.length;
  const ell = ellipsisFor(full);
  let lo = 0;
  let hi = chars.length - 1;
  // The longest prefix that fits: the segment count only grows with the prefix.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (smsSegments(build(`${chars.slice(0, mid).join('')}${ell}`)) <= maxSegments) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/**
 * Builds a text whose one flexible part (the summary) is shortened, with an
 * ellipsis, until the whole fits in `maxSegments`; everything else `build`
 * adds (who, when, how to answer) is always kept. When even an empty summary
 * does not fit, the caller's fixed parts are too long: the text keeps just
 * the ellipsis and goes out longer (the template tests show this never
 * happens with real names).
 */
export function fitSegments(build: (summary: string) => string, summary: string, maxSegments: number): string {
  const chars = [...summary];
  const n = summaryCharsThatFit(build, summary, maxSegments);
  if (n === chars.length) return build(summary);
  return build(`${chars.slice(0, n).join('')}${ellipsisFor(build(summary))}`);
}
