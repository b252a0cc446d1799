/**
 * The emergency tier's message: everything a monitoring centre, security
 * company or the person calling 119 needs — the address, the resident's name
 * and age, what happened and since when, who was already tried, and the
 * key-box / entry notes. Unlike every other message it carries the address
 * and entry notes, because it only ever goes to the emergency tier, and only
 * for critical alerts nobody else acknowledged. One text for voice (read out,
 * no symbols) and one for SMS.
 */
import type { Finding } from '../core/findings.js';
import type { Home, Language, Resident } from '../core/store.js';
import { formatClockTime, localTime } from '../core/time.js';

/** Who was tried before the emergency tier, and whether it reached them. */
export interface TriedContact { name: string; role: string; channel: string; outcome: 'reached' | 'not reached' | 'pending' }

export interface EmergencyFacts {
  home: Home;
  residents: Resident[];
  finding: Finding;
  /** When the alert opened (epoch ms). */
  since: number;
  tried: TriedContact[];
  /** Now, for the ages. */
  at: number;
}

function ages(facts: EmergencyFacts, lang: Language): string {
  const year = localTime(facts.at, facts.home.timezone).year;
  const parts = facts.residents.map((r) => {
    const age = r.birthYear === undefined ? undefined : year - r.birthYear;
    if (lang === 'ja') return `${r.name}さん${age === undefined ? '' : `（${age}歳）`}`;
    return `${r.name}${age === undefined ? '' : ` (age ${age})`}`;
  });
  return parts.length ? parts.join(lang === 'ja' ? '・' : ' and ') : (lang === 'ja' ? '入居者' : 'the resident');
}

const roleJa: Record<string, string> = { family: '家族', caregiver: 'ケア担当', resident: 'ご本人', emergency: '緊急連絡先' };
const outcomeJa: Record<TriedContact['outcome'], string> = { reached: '連絡済・応答なし', 'not reached': 'つながらず', pending: '送信中' };

function triedList(tried: TriedContact[], lang: Language): string {
  // One line per person: the best outcome over their channels.
  const byName = new Map<string, TriedContact>();
  const order: Record<TriedContact['outcome'], number> = { reached: 2, pending: 1, 'not reached': 0 };
  for (const t of tried) {
    const k = `${t.role}\u0000${t.name}`;
    const prev = byName.get(k);
    if (!prev || order[t.outcome] > order[prev.outcome]) byName.set(k, t);
  }
  const list = [...byName.values()];
  if (list.length === 0) return lang === 'ja' ? 'なし' : 'nobody';
  return lang === 'ja'
    ? list.map((t) => `${t.name}（${roleJa[t.role] ?? t.role}・${outcomeJa[t.outcome]}）`).join('、')
    : list.map((t) => `${t.name} (${t.role}, ${t.outcome === 'reached' ? 'told, no answer' : t.outcome})`).join(', ');
}

/** The emergency SMS: full facts, including address and entry notes. */
export function emergencySmsText(facts: EmergencyFacts, lang: Language): string {
  const { home, finding: f } = facts;
  const since = formatClockTime(localTime(facts.since, home.timezone).minuteOfDay);
  if (lang === 'ja') {
    return [
      '【見守り・緊急通報】',
      `対象: ${ages(facts, 'ja')}`,
      `住所: ${home.address ?? '（未登録）'}`,
      `状況: ${f.message.ja}（${since}から）`,
      `詳細: 予想 ${f.expected.ja}／実際 ${f.observed.ja}`,
      `連絡済: ${triedList(facts.tried, 'ja')}（誰も応答していません）`,
      `入室: ${home.entryNotes ?? '（未登録）'}`,
    ].join('\n');
  }
  return [
    '[Mimamori EMERGENCY]',
    `Resident: ${ages(facts, 'en')}`,
    `Address: ${home.address ?? '(not recorded)'}`,
    `What: ${f.message.en} (since ${since})`,
    `Details: expected ${f.expected.en}; observed ${f.observed.en}`,
    `Tried: ${triedList(facts.tried, 'en')} (nobody acknowledged)`,
    `Entry: ${home.entryNotes ?? '(not recorded)'}`,
  ].join('\n');
}

/** The same facts as sentences to read out on a voice call (said twice by the voice channel if it likes). */
export function emergencyVoiceText(facts: EmergencyFacts, lang: Language): string {
  const { home, finding: f } = facts;
  const since = formatClockTime(localTime(facts.since, home.timezone).minuteOfDay);
  if (lang === 'ja') {
    return `見守りシステムからの緊急通報です。${ages(facts, 'ja')}について、${since}から、${f.message.ja}。` +
      `住所は、${home.address ?? '未登録'}です。${triedList(facts.tried, 'ja')}に連絡しましたが、誰も応答していません。` +
      `入室方法は、${home.entryNotes ?? '未登録'}です。確認しましたら1を押してください。`;
  }
  return `This is an emergency call from the Mimamori watch-over system. Since ${since}, for ${ages(facts, 'en')}: ${f.message.en}. ` +
    `The address is ${home.address ?? 'not recorded'}. We tried ${triedList(facts.tried, 'en')}, and nobody acknowledged. ` +
    `Entry: ${home.entryNotes ?? 'not recorded'}. Press 1 to confirm you are handling it.`;
}
