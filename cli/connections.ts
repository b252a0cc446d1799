/**
 * `mimamori connections` (issue 15): every external system the hub is
 * configured to reach, with what for and who answers for it — the inventory
 * an incident response starts from. Read from the configuration and the
 * Node-RED flows file (its outbound nodes: http request, mqtt broker, e-mail);
 * nothing is contacted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../core/config.js';
import type { CliIo } from './cli-io.js';

type Text = { ja: string; en: string };
export interface Connection { system: string; target: string; purpose: Text; owner: Text }

const operator: Text = { ja: '運用者', en: 'the operator' };
const local = (what: string): string => `local stand-in (${what}), nothing leaves the hub`;

/** Outbound nodes of a Node-RED flows file (JSON array of nodes). */
export function flowConnections(flowsText: string): Connection[] {
  let nodes: unknown;
  try { nodes = JSON.parse(flowsText); } catch { return [{ system: 'Node-RED flows', target: 'flows.json (unreadable JSON)', purpose: { ja: 'フローの外部接続を確認できません', en: 'cannot list the flows\' outbound connections' }, owner: operator }]; }
  if (!Array.isArray(nodes)) return [];
  const out: Connection[] = [];
  for (const n of nodes as Array<Record<string, unknown>>) {
    const name = typeof n.name === 'string' && n.name ? ` "${n.name}"` : '';
    const owner: Text = { ja: `フロー作成者（運用者）${name}`, en: `the flow's author (operator)${name}` };
    if (n.type === 'http request') out.push({ system: 'Node-RED http request', target: typeof n.url === 'string' && n.url ? n.url : '(URL set by msg.url)', purpose: { ja: 'フローからのHTTP要求', en: 'HTTP requests from a flow' }, owner });
    else if (n.type === 'mqtt-broker') out.push({ system: 'Node-RED MQTT broker', target: `${String(n.broker ?? '?')}:${String(n.port ?? 1883)}`, purpose: { ja: 'フローのMQTT接続', en: 'a flow\'s MQTT connection' }, owner });
    else if (n.type === 'e-mail' || n.type === 'e-mail in') out.push({ system: `Node-RED ${String(n.type)}`, target: `${String(n.server ?? '?')}:${String(n.port ?? '')}`, purpose: { ja: 'フローからのメール', en: 'e-mail from a flow' }, owner });
  }
  return out;
}

/** Every external system `config` (and the flows file text, if any) makes the hub reach. */
export function listConnections(config: Config, flowsText?: string): Connection[] {
  const out: Connection[] = [];
  const realTwilio = Boolean(config.twilio.accountSid && config.twilio.authToken);
  out.push({
    system: 'Twilio (SMS, voice)', target: realTwilio ? 'https://api.twilio.com' : local('in-process Twilio-compatible server'),
    purpose: { ja: 'アラートのSMS・音声電話', en: 'alert SMS and voice calls' }, owner: realTwilio ? { ja: '運用者（Twilioアカウント）', en: 'the operator (Twilio account)' } : operator,
  });
  if (config.http.publicUrl) out.push({ system: 'Public URL (inbound)', target: config.http.publicUrl, purpose: { ja: 'Twilio・メールのリンクがハブに届く先', en: 'where Twilio and e-mail links reach the hub' }, owner: operator });
  out.push({
    system: 'SMTP (e-mail)', target: config.email.host ? `${config.email.secure ? 'smtps' : 'smtp'}://${config.email.host}:${config.email.port}` : local('in-process SMTP server'),
    purpose: { ja: 'アラート・日報のメール', en: 'alert and digest e-mail' }, owner: config.email.host ? { ja: '運用者（メールサーバー）', en: 'the operator (mail server)' } : operator,
  });
  out.push({
    system: 'InfluxDB', target: config.influx.url ?? local(`managed influxd under ${join(config.dataDir, 'influxdb')}`),
    purpose: { ja: '履歴（センサー・アラート）', en: 'history (sensors, alerts)' }, owner: operator,
  });
  if (config.backup.influxRpc) out.push({ system: 'InfluxDB backup RPC', target: config.backup.influxRpc, purpose: { ja: 'バックアップ', en: 'backups' }, owner: operator });
  for (const url of config.video.turnUrls) out.push({ system: 'TURN', target: url, purpose: { ja: 'ビデオ通話の中継', en: 'relaying video calls' }, owner: operator });
  for (const url of config.video.stun) out.push({ system: 'STUN', target: url, purpose: { ja: 'ビデオ通話の経路探索', en: 'finding video call routes' }, owner: operator });
  if (realTwilio) out.push({ system: 'Twilio Network Traversal', target: 'https://api.twilio.com', purpose: { ja: 'ビデオ通話のTURN資格情報', en: 'TURN credentials for video calls' }, owner: { ja: '運用者（Twilioアカウント）', en: 'the operator (Twilio account)' } });
  // LINE: the real API when its credentials are set, otherwise the local LINE-compatible server inside the hub.
  const realLine = Boolean(config.line.channelAccessToken && config.line.channelSecret);
  out.push({
    system: 'LINE Messaging API', target: realLine ? 'https://api.line.me' : local('LINE-compatible server'),
    purpose: { ja: 'アラート・日報のLINE通知', en: 'alerts and digests by LINE' }, owner: realLine ? { ja: '運用者（LINE公式アカウント）', en: 'the operator (LINE Official Account)' } : operator,
  });
  // Web push: each subscribed browser's own push service (its vendor's), signed with the hub's VAPID keys.
  out.push({
    system: 'Web push', target: `each subscribed browser's push service (VAPID ${config.push.subject})${config.push.localService ? '; a local stand-in records the demo\'s' : ''}`,
    purpose: { ja: 'アラート・日報のプッシュ通知', en: 'alerts and digests by web push' }, owner: { ja: '受け取る人のブラウザの提供元', en: 'the vendor of each person\'s browser' },
  });
  if (flowsText !== undefined) out.push(...flowConnections(flowsText));
  return out;
}

export async function connectionsCommand(_args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const config = loadConfig(env);
  let flowsText: string | undefined;
  try { flowsText = readFileSync(join(config.dataDir, 'node-red', 'flows.json'), 'utf8'); } catch { flowsText = undefined; }
  io.out('external connections / 外部接続 (system — target — purpose 目的 — owner 責任者)');
  for (const c of listConnections(config, flowsText)) io.out(`${c.system} — ${c.target} — ${c.purpose.ja} / ${c.purpose.en} — ${c.owner.ja} / ${c.owner.en}`);
  return 0;
}
