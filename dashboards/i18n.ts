/**
 * Every visible string of the web app in Japanese and English. Pages pick the
 * signed-in person's language; before sign-in, `?lang=` or Accept-Language.
 */
import type { Language } from '../core/store.js';

export const messages = {
  appName: { ja: '見守り', en: 'mimamori' },
  signIn: { ja: 'ログイン', en: 'Sign in' },
  signOut: { ja: 'ログアウト', en: 'Sign out' },
  login: { ja: 'ログインID', en: 'Login' },
  password: { ja: 'パスワード', en: 'Password' },
  totpCode: { ja: '確認コード（6桁）', en: 'Authenticator code (6 digits)' },
  totpTitle: { ja: '2段階認証', en: 'Two-step verification' },
  totpEnroll: { ja: '認証アプリにこの鍵を登録し、表示されたコードを入力してください', en: 'Add this key to your authenticator app, then enter the code it shows' },
  confirm: { ja: '確認', en: 'Confirm' },
  badCredentials: { ja: 'ログインIDまたはパスワードが違います', en: 'Wrong login or password' },
  lockedOut: { ja: 'この接続元からの失敗が続いたため、しばらくログインできません（1分から最長15分）。時間をおいてお試しください', en: 'Too many failed attempts from here: please wait before trying again (1 to 15 minutes)' },
  rateLimited: { ja: '試行が多すぎます。しばらくしてからお試しください', en: 'Too many attempts; please wait a moment' },
  badCode: { ja: 'コードが違います', en: 'Wrong code' },
  csrf: { ja: 'ページの有効期限が切れました。再読み込みしてください', en: 'This page has expired; please reload it' },
  forbidden: { ja: 'この情報を見る権限がありません', en: 'You are not allowed to see this' },
  notFound: { ja: '見つかりません', en: 'Not found' },
  invalidInput: { ja: '入力内容を確認してください', en: 'Please check what you entered' },
  tooLarge: { ja: 'ファイルが大きすぎます（上限 {max} MB）', en: 'The file is too large (limit {max} MB)' },
  notImage: { ja: '画像ファイル（JPEG・PNG・WebP）を選んでください', en: 'Please choose an image file (JPEG, PNG or WebP)' },
  nothingChanged: { ja: '何も変更されていません', en: 'Nothing was changed' },
  saved: { ja: '保存しました', en: 'Saved' },
  account: { ja: 'アカウント', en: 'Account' },
  sessions: { ja: 'ログイン中の端末', en: 'Signed-in devices' },
  thisDevice: { ja: 'この端末', en: 'this device' },
  revoke: { ja: 'ログアウトさせる', en: 'Sign out' },
  language: { ja: '表示言語', en: 'Language' },
  since: { ja: '開始', en: 'Since' },
  lastSeen: { ja: '最終利用', en: 'Last used' },
  today: { ja: '今日のようす', en: 'Today at a glance' },
  statusFine: { ja: '問題なし', en: 'All fine' },
  statusNoticed: { ja: '気になることがあります', en: 'Something noticed' },
  statusAlertOpen: { ja: '緊急のアラート：まだ誰も対応していません', en: 'Urgent alert: nobody is handling it yet' },
  statusAlertHandled: { ja: '緊急のアラート：対応中', en: 'Urgent alert: being handled' },
  lastSign: { ja: '最後の生活反応', en: 'Last sign of life' },
  never: { ja: '記録なし', en: 'none yet' },
  attendance: { ja: 'デイサービス出欠', en: 'Day-care attendance' },
  present: { ja: '出席', en: 'Present' },
  absent: { ja: '欠席', en: 'Absent' },
  notMarked: { ja: '未記録', en: 'Not marked' },
  rhythm: { ja: '一日のリズム（時間帯ごとの反応）', en: 'Daily rhythm (activity per hour)' },
  week: { ja: '1週間', en: 'This week' },
  rhythmDaySummary: { ja: '過去24時間の反応は合計{total}件。いちばん多いのは{peak}時台（{count}件）です。', en: '{total} events in the last 24 hours; the busiest hour was {peak}:00 ({count}).' },
  rhythmWeekSummary: { ja: '過去7日間の反応は合計{total}件。いちばん多い日は{peak}（{count}件）です。', en: '{total} events in the last 7 days; the busiest day was {peak} ({count}).' },
  rhythmNone: { ja: 'この期間の記録はありません。', en: 'No activity was recorded in this period.' },
  detailedOnly: { ja: '詳しい記録は本人の同意がある場合だけ表示されます', en: 'Detailed records are shown only with the resident\'s consent' },
  alerts: { ja: 'アラート', en: 'Alerts' },
  noAlerts: { ja: '対応中のアラートはありません', en: 'No open alerts' },
  acknowledge: { ja: '確認しました', en: 'Acknowledge' },
  onMyWay: { ja: '向かっています', en: 'On my way' },
  arrived: { ja: '到着しました', en: 'Arrived' },
  resolve: { ja: '解決', en: 'Resolve' },
  handledBy: { ja: '対応者', en: 'Handled by' },
  nobodyYet: { ja: 'まだ誰も対応していません', en: 'Nobody yet' },
  news: { ja: '家族のニュース', en: 'Family news' },
  noNews: { ja: 'ニュースはまだありません', en: 'No news yet' },
  postNews: { ja: 'ニュースを投稿', en: 'Post news' },
  newsText: { ja: '今日のようす', en: 'What happened today' },
  photos: { ja: '写真', en: 'Photos' },
  post: { ja: '投稿', en: 'Post' },
  ask: { ja: 'スタッフに質問する', en: 'Ask the staff a question' },
  question: { ja: '質問', en: 'Question' },
  questions: { ja: '質問', en: 'Questions' },
  answer: { ja: '回答', en: 'Answer' },
  send: { ja: '送信', en: 'Send' },
  unanswered: { ja: '未回答', en: 'Not answered yet' },
  accessLog: { ja: '私のデータを見た人', en: 'Who looked at my data' },
  who: { ja: '誰が', en: 'Who' },
  when: { ja: 'いつ', en: 'When' },
  what: { ja: '何を', en: 'What' },
  consent: { ja: '公開範囲の設定', en: 'Sharing settings' },
  viewer: { ja: '閲覧者', en: 'Viewer' },
  coarse: { ja: '概要のみ', en: 'Summary only' },
  detailed: { ja: '詳細（センサーごと）', en: 'Detailed (per sensor)' },
  sharePhotos: { ja: '写真を共有', en: 'Share photos' },
  save: { ja: '保存', en: 'Save' },
  residents: { ja: '利用者', en: 'Residents' },
  home: { ja: 'お宅', en: 'Home' },
  markPresent: { ja: '出席にする', en: 'Mark present' },
  markAbsent: { ja: '欠席にする', en: 'Mark absent' },
  newsSheet: { ja: '週刊ニュース（印刷用PDF）', en: 'Weekly news sheet (PDF)' },
  queue: { ja: 'アラート一覧', en: 'Alert queue' },
  assigned: { ja: '担当の利用者', en: 'Assigned residents' },
  homes: { ja: 'お宅一覧', en: 'Homes' },
  contacts: { ja: '連絡先（連絡順）', en: 'Contacts (in calling order)' },
  devices: { ja: '機器', en: 'Devices' },
  deviceHealth: { ja: '機器の状態', en: 'Device health' },
  healthy: { ja: '正常', en: 'OK' },
  addDevice: { ja: '機器を登録', en: 'Add a device' },
  credentialsOnce: { ja: 'この認証情報は一度だけ表示されます。今すぐ機器に設定してください', en: 'These credentials are shown only once: set them on the device now' },
  addHome: { ja: 'お宅を登録', en: 'Add a home' },
  addResident: { ja: '利用者を登録', en: 'Add a resident' },
  addContact: { ja: '連絡先を追加', en: 'Add a contact' },
  addAccount: { ja: 'アカウントを作成', en: 'Create an account' },
  linkAccount: { ja: '関係を登録', en: 'Link an account' },
  escalation: { ja: '連絡ルール（エスカレーション）', en: 'Escalation policy' },
  audit: { ja: '監査ログ', en: 'Audit log' },
  name: { ja: '名前', en: 'Name' },
  id: { ja: 'ID', en: 'ID' },
  timezone: { ja: 'タイムゾーン', en: 'Time zone' },
  kind: { ja: '種類', en: 'Kind' },
  role: { ja: '役割', en: 'Role' },
  // Roles of accounts and contacts, as people read them (never the raw id on a page).
  role_resident: { ja: 'ご本人', en: 'resident' },
  role_family: { ja: 'ご家族', en: 'family' },
  role_staff: { ja: 'デイケア職員', en: 'day-care staff' },
  role_caregiver: { ja: 'ケアマネ・ヘルパー・看護師', en: 'caregiver' },
  role_operator: { ja: '運営者', en: 'operator' },
  role_emergency: { ja: '緊急連絡先', en: 'emergency' },
  phone: { ja: '電話番号', en: 'Phone' },
  order: { ja: '順番', en: 'Order' },
  target: { ja: '対象', en: 'Target' },
  imOk: { ja: '元気です', en: "I'm OK" },
  help: { ja: '助けて', en: 'Help' },
  helpSent: { ja: '助けを呼びました。すぐに連絡が来ます', en: 'Help is on the way; someone will contact you soon' },
  okSent: { ja: 'ありがとうございます。ご家族に伝えました', en: 'Thank you; your family has been told' },
  skip: { ja: '本文へ移動', en: 'Skip to content' },
  // Backups and the trail (issue 15, docs/backup.md)
  backups: { ja: 'バックアップ', en: 'Backups' },
  trailHeads: { ja: '記録の連鎖の先頭（控えておくと改ざんを後で確かめられます）', en: 'Chain heads of the logs (note them to prove later that nothing was changed)' },
  accessRecords: { ja: '閲覧記録', en: 'Access log' },
  backupStatus: { ja: '結果', en: 'Result' },
  backupVerified: { ja: '復元テスト', en: 'Test restore' },
  backupFile: { ja: 'ファイル', en: 'File' },
  verifiedYes: { ja: '合格', en: 'passed' },
  verifiedNo: { ja: '未確認', en: 'not verified' },
  noBackups: { ja: 'バックアップはまだありません', en: 'No backups yet' },
} satisfies Record<string, Record<Language, string>>;

export type MessageKey = keyof typeof messages;

/** A translator for one language; `{name}` placeholders are filled from `vars`. */
export function translator(lang: Language): (key: MessageKey, vars?: Record<string, string | number>) => string {
  return (key, vars) => {
    let s: string = messages[key][lang];
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
    return s;
  };
}

/** A role (account or contact) in words: `roleName(t, 'caregiver')` → ケアマネ・ヘルパー・看護師. */
export function roleName(t: ReturnType<typeof translator>, role: string): string {
  const key = `role_${role}`;
  return key in messages ? t(key as MessageKey) : role;
}

/** The language for a page before sign-in: `?lang=`, then Accept-Language, then Japanese. */
export function guessLanguage(query: unknown, acceptLanguage: string | undefined): Language {
  const q = (query as { lang?: unknown } | undefined)?.lang;
  if (q === 'ja' || q === 'en') return q;
  return acceptLanguage && /^en/i.test(acceptLanguage) ? 'en' : 'ja';
}
