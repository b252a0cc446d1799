/**
 * TwiML documents the hub hands to Twilio: the alert call (text-to-speech in
 * Japanese or English, a one-key Gather: 1 = acknowledge, 2 = on my way,
 * asked twice, then goodbye), the spoken confirmation after a keypress, and
 * the SMS reply to an inbound message. Everything user-visible is escaped
 * here, once.
 */
import type { Language } from '../core/store.js';

/** Escapes text for an XML element or a double-quoted attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** Twilio's `<Say language>` for each of our languages (Polly/Google voices exist for both). */
export const sayLanguage: Record<Language, string> = { ja: 'ja-JP', en: 'en-US' };

const xmlHead = '<?xml version="1.0" encoding="UTF-8"?>';

const say = (text: string, language: Language): string => `<Say language="${sayLanguage[language]}">${escapeXml(text)}</Say>`;

/** The words of a voice call, per language. */
export const voiceWords: Record<Language, { options: string; goodbye: string; acknowledged: string; onMyWay: (eta?: number) => string; notUnderstood: string; failed: string }> = {
  ja: {
    options: '確認した方は1を、今から向かう方は2を押してください。',
    goodbye: 'ご対応をお願いします。失礼します。',
    acknowledged: '確認を受け付けました。ほかのご家族にも、あなたが対応することをお知らせします。失礼します。',
    onMyWay: () => '向かっていただけることを受け付けました。到着したら、玄関の開閉で確認します。お気をつけて。',
    notUnderstood: '1か2を押してください。',
    failed: '受け付けられませんでした。すでに対応が終わっている可能性があります。失礼します。',
  },
  en: {
    options: 'Press 1 if you have seen this. Press 2 if you are on your way.',
    goodbye: 'Please take care of this. Goodbye.',
    acknowledged: 'Thank you, your acknowledgement is recorded. Everyone already told will hear that you are handling it. Goodbye.',
    onMyWay: () => 'Thank you, we have noted that you are on your way. The front door sensor will confirm your arrival. Travel safely.',
    notUnderstood: 'Please press 1 or 2.',
    failed: 'That could not be recorded; the alert may already be closed. Goodbye.',
  },
};

export interface AlertCallTwimlOptions {
  /** The alert text, already in `language`. */
  text: string;
  language: Language;
  /** Absolute URL Twilio POSTs the pressed digit to (carries the alert id). */
  gatherAction: string;
  /** Seconds Gather waits for a key after the prompt; Twilio's default is 5. */
  timeoutSeconds?: number;
}

/**
 * The alert call: read the alert, ask for 1 or 2, ask once more if nobody
 * pressed, then say goodbye and hang up. Voicemail just records the text.
 *
 * @example
 * alertCallTwiml({ text: '山田花子さんの家で…', language: 'ja', gatherAction: 'https://hub.example/twilio/voice/gather?alert=a1&contact=c1&lang=ja' })
 */
export function alertCallTwiml(o: AlertCallTwimlOptions): string {
  const w = voiceWords[o.language];
  const gather = `<Gather input="dtmf" numDigits="1" timeout="${o.timeoutSeconds ?? 6}" method="POST" action="${escapeXml(o.gatherAction)}">${say(o.text, o.language)}${say(w.options, o.language)}</Gather>`;
  // Twilio falls through a Gather nobody answered: the second one is the repeat.
  return `${xmlHead}<Response>${gather}${gather}${say(w.goodbye, o.language)}<Hangup/></Response>`;
}

/** Speaks `text` and hangs up (the answer to a keypress). */
export function sayAndHangUpTwiml(text: string, language: Language): string {
  return `${xmlHead}<Response>${say(text, language)}<Hangup/></Response>`;
}

/** Asks for 1 or 2 again (an unexpected key), posting to the same action. */
export function regatherTwiml(language: Language, gatherAction: string): string {
  const w = voiceWords[language];
  return `${xmlHead}<Response><Gather input="dtmf" numDigits="1" timeout="6" method="POST" action="${escapeXml(gatherAction)}">${say(w.notUnderstood, language)}${say(w.options, language)}</Gather>${say(w.goodbye, language)}<Hangup/></Response>`;
}

/** The SMS reply to an inbound message (Twilio sends it back to the sender). */
export function messageTwiml(text: string): string {
  return `${xmlHead}<Response><Message>${escapeXml(text)}</Message></Response>`;
}

/** No reply at all. */
export function emptyTwiml(): string {
  return `${xmlHead}<Response></Response>`;
}
