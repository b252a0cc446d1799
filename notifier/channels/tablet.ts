/**
 * The home tablet as a channel: a JSON prompt published (QoS 1) on the
 * tablet's command topic `mimamori/v1/homes/{home}/devices/tablet/commands`
 * by the hub's authenticated MQTT service client:
 *
 * ```json
 * { "type": "are-you-ok", "id": "…", "alertId": "…", "at": "2026-…Z",
 *   "text": { "ja": "大丈夫ですか？", "en": "Are you OK?" },
 *   "buttons": [{ "id": "ok", "label": { "ja": "大丈夫です", "en": "I'm OK" } }, { "id": "help", … }] }
 * ```
 *
 * The resident's answer is not read here: the tablet publishes it as an
 * ordinary button event (`{ kind: 'button', press: 'ok' | 'help' }`) on its
 * events topic, and it reaches the rules and the escalation through the
 * normal event path.
 */
import type { MqttClient } from 'mqtt';
import type { SchedulerLike } from 'rxjs';
import { idPattern } from '../../core/events.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { commandTopic } from '../../core/topics.js';
import type { Channel, ChannelMessage, SendResult } from '../channel.js';

/** The tablet's device id in every home. */
export const tabletDeviceId = 'tablet';

export interface TabletPrompt {
  type: 'alert' | 'are-you-ok';
  id: string;
  alertId?: string;
  at: string;
  text: { ja: string; en: string };
  buttons: Array<{ id: 'ok' | 'help'; label: { ja: string; en: string } }>;
}

const okButton = { id: 'ok', label: { ja: '大丈夫です', en: "I'm OK" } } as const;
const helpButton = { id: 'help', label: { ja: '助けて', en: 'Help' } } as const;

export interface TabletChannelOptions {
  /** A connected MQTT.js client logged in as a hub service (may publish to any device's commands). */
  client: MqttClient;
  logger: Logger;
  clock: SchedulerLike;
  /** Longest real wait for the broker's PUBACK. */
  publishTimeoutMs?: number;
}

/** Builds the prompt; the text is in both languages so the tablet can show the resident's first. */
export function tabletPrompt(msg: ChannelMessage, id: string, at: number): TabletPrompt {
  const type = msg.prompt ?? 'alert';
  const text = msg.texts ?? { ja: msg.text, en: msg.text };
  const p: TabletPrompt = { type, id, at: new Date(at).toISOString(), text, buttons: type === 'are-you-ok' ? [okButton, helpButton] : [okButton] };
  if (msg.alertId) p.alertId = msg.alertId;
  return p;
}

/**
 * Creates the tablet channel. Recipient: `{ homeId, language }` (the resident's home).
 *
 * @example
 * const tablet = createTabletChannel({ client: serviceClient, logger, clock });
 * await tablet.send({ to: { homeId: 'home-1', language: 'ja' }, prompt: 'are-you-ok', text: '大丈夫ですか？', texts: { ja: '大丈夫ですか？', en: 'Are you OK?' } });
 */
export function createTabletChannel(opts: TabletChannelOptions): Channel {
  const timeoutMs = opts.publishTimeoutMs ?? 5000;
  return {
    name: 'tablet',
    async send(msg: ChannelMessage): Promise<SendResult> {
      const home = msg.to.homeId;
      if (!home) return { status: 'failed', error: 'recipient has no home (the tablet is per home)' };
      if (!idPattern.test(home)) return { status: 'failed', error: 'not a home id' };
      // MQTT.js would queue a QoS 1 message while offline and resolve much later: an alert cannot wait for that.
      if (!opts.client.connected) return { status: 'failed', error: 'not connected to the broker' };
      const at = opts.clock.now();
      const prompt = tabletPrompt(msg, newId(at), at);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          opts.client.publishAsync(commandTopic(home, tabletDeviceId), JSON.stringify(prompt), { qos: 1 }),
          new Promise((_r, reject) => { timer = setTimeout(() => reject(new Error(`no PUBACK within ${timeoutMs} ms`)), timeoutMs); }),
        ]);
        opts.logger.info({ providerId: prompt.id, alertId: msg.alertId, type: prompt.type }, 'prompt published to the home tablet');
        return { providerId: prompt.id, status: 'sent' };
      } catch (err) {
        const error = `broker refused or did not answer: ${(err as Error).message}`;
        opts.logger.warn({ alertId: msg.alertId, error }, 'tablet prompt not published');
        return { status: 'failed', error };
      } finally {
        if (timer) clearTimeout(timer);
      }
    },
  };
}
