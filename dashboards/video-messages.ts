/** The video pages' strings: the `video_` keys of the one catalogue (i18n.ts), by their short names. */
import type { Language } from '../core/store.js';
import { messages, type MessageKey } from './i18n.js';

/** `connecting` for the catalogue's `video_connecting`, and so on. */
export type VideoMessageKey = { [K in MessageKey]: K extends `video_${infer R}` ? R : never }[MessageKey];

/** A translator for the video pages. */
export function videoText(lang: Language): (key: VideoMessageKey) => string {
  return (key) => messages[`video_${key}`][lang];
}

/** The strings the browser script needs, as one JSON object for a data attribute. */
export function scriptText(lang: Language): string {
  const keys: VideoMessageKey[] = ['connecting', 'ready', 'ringing', 'joining', 'connected', 'idle', 'offline', 'declined', 'no-answer', 'cancelled', 'ended'];
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, messages[`video_${k}`][lang]])));
}
