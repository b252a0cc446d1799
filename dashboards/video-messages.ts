/** Every visible string of the video pages, in Japanese and English (kept apart from i18n.ts, which other parts edit). */
import type { Language } from '../core/store.js';

export const videoMessages = {
  video: { ja: 'ビデオ通話', en: 'Video calls' },
  checkins: { ja: 'ビデオでの定時確認', en: 'Video check-ins' },
  nextCheckin: { ja: '次のビデオ通話', en: 'Next video call' },
  noCheckins: { ja: '予定はありません', en: 'Nothing scheduled' },
  schedule: { ja: '予定を追加', en: 'Schedule a check-in' },
  dueAt: { ja: '日時', en: 'Date and time' },
  caller: { ja: '電話をかける人', en: 'Who calls' },
  cancel: { ja: '取り消す', en: 'Cancel' },
  callNow: { ja: '今すぐ通話', en: 'Call now' },
  callCheckin: { ja: 'この予定の通話を開始', en: 'Start this check-in call' },
  lookIn: { ja: '緊急の様子確認（ビデオ）', en: 'Emergency look-in (video)' },
  join: { ja: '通話に参加', en: 'Join the call' },
  hangUp: { ja: '通話を終える', en: 'Hang up' },
  inCall: { ja: '通話中', en: 'In a call' },
  incoming: { ja: 'ビデオ通話です', en: 'Video call' },
  autoAnswerIn: { ja: '秒後に自動でつながります', en: 'seconds until the call connects' },
  notNow: { ja: '今はだめ', en: 'Not now' },
  answer: { ja: '出る', en: 'Answer' },
  status_scheduled: { ja: '予定', en: 'scheduled' },
  status_done: { ja: '済み', en: 'done' },
  status_missed: { ja: 'できませんでした', en: 'missed' },
  status_cancelled: { ja: '取り消し', en: 'cancelled' },
  notes: { ja: '通話のあとの記録', en: 'After-call notes' },
  mood: { ja: '気分', en: 'Mood' },
  eating: { ja: '食事', en: 'Eating' },
  followUp: { ja: 'フォローが必要なこと', en: 'To follow up' },
  saveNote: { ja: '記録を保存', en: 'Save note' },
  noNotes: { ja: '記録はまだありません', en: 'No notes yet' },
  noteSummaryOnly: { ja: 'ビデオ確認を行いました（詳しい記録は本人の同意がある場合だけ表示されます）', en: 'A video check-in took place (details are shown only with the resident\'s consent)' },
  settings: { ja: 'ビデオ通話の設定', en: 'Video call settings' },
  trusted: { ja: '自動で応答する（信頼できる人）', en: 'Auto-answer (trusted caller)' },
  maySchedule: { ja: '予定を追加できる', en: 'May schedule check-ins' },
  mayLookIn: { ja: '緊急時にビデオで様子を確認できる', en: 'May look in by video in an emergency' },
  person: { ja: '相手', en: 'Person' },
  save: { ja: '保存', en: 'Save' },
  reminder: { ja: 'ビデオ確認の時間が近づいています', en: 'A video check-in is coming up' },
  // Call states shown by the script.
  connecting: { ja: '接続しています…', en: 'Connecting…' },
  ready: { ja: '待機中', en: 'Ready' },
  ringing: { ja: '呼び出し中…', en: 'Ringing…' },
  joining: { ja: 'つないでいます…', en: 'Connecting the call…' },
  connected: { ja: '通話中', en: 'Connected' },
  idle: { ja: '待機中', en: 'Ready' },
  offline: { ja: '接続が切れました。再接続します…', en: 'Disconnected; reconnecting…' },
  declined: { ja: '今は出られないそうです', en: 'Declined for now' },
  'no-answer': { ja: '応答がありませんでした', en: 'No answer' },
  cancelled: { ja: '取り消しました', en: 'Cancelled' },
  ended: { ja: '通話が終わりました', en: 'The call ended' },
} satisfies Record<string, Record<Language, string>>;

export type VideoMessageKey = keyof typeof videoMessages;

/** A translator for the video pages. */
export function videoText(lang: Language): (key: VideoMessageKey) => string {
  return (key) => videoMessages[key][lang];
}

/** The strings the browser script needs, as one JSON object for a data attribute. */
export function scriptText(lang: Language): string {
  const keys: VideoMessageKey[] = ['connecting', 'ready', 'ringing', 'joining', 'connected', 'idle', 'offline', 'declined', 'no-answer', 'cancelled', 'ended'];
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, videoMessages[k][lang]])));
}
