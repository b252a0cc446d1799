/**
 * Phone numbers as people type them in Japan (090-1234-5678, 03-1234-5678,
 * full-width ０９０－１２３４－５６７８, +81 90 …) and as the system keeps them:
 * E.164 (+819012345678), which Twilio and the local Twilio server require.
 * libphonenumber-js with its full metadata (`/max`) decides what is a real
 * number; a domestic number is read as Japanese.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { Language } from './store.js';

/** What a person is told when a number is not one (web forms, the CLI). */
export const invalidPhoneMessage = {
  ja: '電話番号を確認してください（例 090-1234-5678、03-1234-5678、海外は +1 415 555 0123 のように + から）',
  en: 'Check the phone number (e.g. 090-1234-5678, 03-1234-5678, or +1 415 555 0123 from abroad)',
} as const satisfies Record<Language, string>;

/**
 * The number in E.164, or undefined when it is not a valid number:
 * `toE164('０９０－１２３４－５６７８')` → `'+819012345678'`.
 */
export function toE164(input: string): string | undefined {
  // NFKC turns full-width digits, hyphens and plus into ASCII; the dashes
  // people type from a Japanese keyboard (ー − ‐ ―) become hyphens.
  const text = input.normalize('NFKC').replace(/[ー−‐―–—]/g, '-').trim();
  if (text === '' || text.length > 40) return undefined;
  const parsed = parsePhoneNumberFromString(text, 'JP');
  return parsed?.isValid() ? parsed.number : undefined;
}

/**
 * A stored E.164 number as the reader expects it: domestic form
 * (090-1234-5678) for a Japanese reader of a Japanese number, international
 * (+81 90 1234 5678) otherwise; anything unparseable as it is.
 */
export function phoneForDisplay(e164: string, lang: Language): string {
  const parsed = parsePhoneNumberFromString(e164, 'JP');
  if (!parsed) return e164;
  return lang === 'ja' && parsed.country === 'JP' ? parsed.formatNational() : parsed.formatInternational();
}

/** A text that must be a phone number, read into E.164 (for files and options the CLI reads; both languages in its message). */
export const phoneSchema = z.string().max(40).transform((s, ctx) => {
  const e164 = toE164(s);
  if (e164 === undefined) {
    ctx.addIssue({ code: 'custom', message: `${invalidPhoneMessage.en} / ${invalidPhoneMessage.ja}: "${s}"` });
    return z.NEVER;
  }
  return e164;
});
