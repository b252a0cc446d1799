/**
 * The notifier's outside world, for the hub: Twilio (real with credentials,
 * else the local Twilio-compatible server), LINE (likewise), SMTP (a
 * configured server, else a local one that keeps the mail), ICE servers for
 * video, and a responder for routes that start before the notifier.
 */
import { join } from 'node:path';
import { messagingApi } from '@line/bot-sdk';
import type { Config } from '../core/config.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import {
  createTwilioClient, startLocalLine, startLocalSmtp, startLocalTwilio,
  type AlertResponder, type LocalLine, type LocalSmtp, type LocalTwilio,
} from '../notifier/index.js';
import type { createWebApp } from '../dashboards/index.js';
import type { OnClose } from './on-close.js';

/** Twilio's client and the token its webhooks are signed with. */
export async function startTwilio(config: Config, logger: Logger, clock: Clock, onClose: OnClose) {
  // Twilio: real with credentials, otherwise the local Twilio-compatible server.
  let localTwilio: LocalTwilio | undefined;
  let twilioClient;
  let twilioToken: string;
  if (config.twilio.accountSid && config.twilio.authToken) {
    twilioClient = createTwilioClient({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken });
    twilioToken = config.twilio.authToken;
  } else {
    localTwilio = await startLocalTwilio({ port: config.twilio.localPort, recordFile: join(config.dataDir, 'twilio-messages.ndjson'), logger: logger.child({ part: 'local-twilio' }), clock });
    const lt = localTwilio;
    onClose('local-twilio', () => lt.close());
    twilioClient = createTwilioClient({ accountSid: lt.accountSid, authToken: lt.authToken, baseUrl: lt.url });
    twilioToken = lt.authToken;
    logger.info({ url: lt.url }, 'no Twilio credentials: SMS and voice go to the local Twilio-compatible server');
  }
  return { localTwilio, twilioClient, twilioToken };
}

/** LINE's client and credentials. */
export async function startLine(config: Config, logger: Logger, clock: Clock, onClose: OnClose) {
  // LINE: real with credentials, otherwise the local LINE-compatible server (docs/channels.md).
  let localLine: LocalLine | undefined;
  let lineCreds: { channelAccessToken: string; channelSecret: string; baseURL?: string };
  if (config.line.channelAccessToken && config.line.channelSecret) {
    lineCreds = { channelAccessToken: config.line.channelAccessToken, channelSecret: config.line.channelSecret };
  } else {
    localLine = await startLocalLine({ recordFile: join(config.dataDir, 'line-messages.ndjson'), logger: logger.child({ part: 'local-line' }), clock });
    const ll = localLine;
    onClose('local-line', () => ll.close());
    lineCreds = { channelAccessToken: ll.channelAccessToken, channelSecret: ll.channelSecret, baseURL: ll.url };
    logger.info({ url: ll.url, record: join(config.dataDir, 'line-messages.ndjson') }, 'no LINE credentials: LINE messages go to the local LINE-compatible server');
  }
  const lineClient = new messagingApi.MessagingApiClient(lineCreds);
  return { localLine, lineCreds, lineClient };
}

/** The SMTP server e-mail goes through. */
export async function startSmtp(config: Config, logger: Logger, onClose: OnClose) {
  // E-mail: a configured SMTP server, otherwise a local one that keeps the mail.
  let localSmtp: LocalSmtp | undefined;
  let smtp = config.email.host ? { host: config.email.host, port: config.email.port, secure: config.email.secure, ...(config.email.user ? { user: config.email.user, pass: config.email.pass ?? '' } : {}) } : undefined;
  if (!smtp) {
    localSmtp = await startLocalSmtp({ logger: logger.child({ part: 'local-smtp' }) });
    const ls = localSmtp;
    onClose('local-smtp', () => ls.close());
    smtp = { host: ls.host, port: ls.port, secure: false };
  }
  return { localSmtp, smtp };
}

/** ICE servers for video calls: Twilio's Network Traversal with real credentials, else configured STUN/TURN. */
export function iceConfig(config: Config, twilioClient: ReturnType<typeof createTwilioClient>): NonNullable<Parameters<typeof createWebApp>[0]['video']>['ice'] {
  if (config.twilio.accountSid && config.twilio.authToken) return { twilio: { client: twilioClient } };
  const ice: NonNullable<NonNullable<Parameters<typeof createWebApp>[0]['video']>['ice']> = {};
  if (config.video.stun.length > 0) ice.stun = config.video.stun;
  if (config.video.turnUrls.length > 0 && config.video.turnSecret) ice.turn = { urls: config.video.turnUrls, secret: config.video.turnSecret };
  return ice;
}

/** A responder for routes that start before the notifier: answers "unavailable" until it exists. */
export function lateResponder(get: () => AlertResponder | undefined): AlertResponder {
  const unavailable = { ok: false as const, reason: 'invalid' as const, message: 'the hub is still starting' };
  return {
    acknowledge: async (i) => (await get()?.acknowledge(i)) ?? unavailable,
    onMyWay: async (i) => (await get()?.onMyWay(i)) ?? unavailable,
    arrived: async (i) => (await get()?.arrived(i)) ?? unavailable,
    resolve: async (i) => (await get()?.resolve(i)) ?? unavailable,
    bindReply: async (phone, code) => (await get()?.bindReply(phone, code)) ?? { kind: 'none' },
    bindReplyFrom: async (from, code) => (await get()?.bindReplyFrom(from, code)) ?? { kind: 'none' },
  };
}
