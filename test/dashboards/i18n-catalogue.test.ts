/**
 * The one message catalogue (dashboards/i18n.ts): every key has a non-empty
 * Japanese and English text with the same `{placeholders}`, and the tables
 * that used to live beside their pages now read from it.
 */
import t from 'tap';
import { messages, translator, type MessageKey } from '../../dashboards/i18n.js';
import { scriptText, videoText } from '../../dashboards/video-messages.js';
import { sheetLabels } from '../../dashboards/contact-sheet.js';
import { alertStateLabel } from '../../dashboards/views.js';

const keys = Object.keys(messages) as MessageKey[];
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

t.test('every key has non-empty ja and en texts with the same placeholders', async (t) => {
  t.ok(keys.length > 200, `catalogue has ${keys.length} keys`);
  const bad: string[] = [];
  for (const k of keys) {
    const entry = messages[k] as Record<string, unknown>;
    if (Object.keys(entry).sort().join() !== 'en,ja') bad.push(`${k}: languages ${Object.keys(entry).join()}`);
    for (const lang of ['ja', 'en'] as const) if (typeof entry[lang] !== 'string' || (entry[lang] as string).trim() === '') bad.push(`${k}.${lang} empty`);
    if (typeof entry.ja === 'string' && typeof entry.en === 'string' && placeholders(entry.ja).join() !== placeholders(entry.en).join()) bad.push(`${k}: placeholders differ`);
  }
  t.same(bad, [], 'every key: exactly ja and en, non-empty, same placeholders');
});

t.test('the Japanese text is Japanese', async (t) => {
  // A ja text with no kana or kanji at all is an untranslated copy of the English (a few are ids or names by nature).
  const latinByNature = new Set<MessageKey>(['id', 'lang_en', 'channel_sms', 'channel_line', 'policyPreviewWho']);
  const untranslated = keys.filter((k) => !latinByNature.has(k) && !/[\u3040-\u30ff\u4e00-\u9fff]/.test(messages[k].ja));
  t.same(untranslated, []);
});

t.test('the pages that had their own tables read from the catalogue', async (t) => {
  t.equal(videoText('ja')('hangUp'), messages.video_hangUp.ja);
  t.equal(JSON.parse(scriptText('en'))['no-answer'], messages['video_no-answer'].en);
  t.equal(sheetLabels.title, '緊急連絡先一覧 / Emergency contact list');
  t.equal(sheetLabels.role.family, '家族 / family');
  t.equal(alertStateLabel('on-my-way', 'ja'), '対応中（向かっています）');
  t.equal(translator('en')('bridgeReported', { bridge: 'b1', when: 'now', count: 2 }), 'Bridge b1 last reported now; forwarding 2 device(s)');
});
