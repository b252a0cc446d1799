/**
 * Remote video check-ins (issue 5), the web app's video part: the check-in
 * schedule with reminders and missed-check-in findings, the call registry,
 * the signalling WebSocket and the pages. `createWebApp` builds it from its
 * `video` option; the hub wires the three callbacks (findings to the
 * notifier, reminders to the caregiver, call quality to InfluxDB).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import type { Finding } from '../core/findings.js';
import { createCheckins, type Checkins, type CheckinReminder } from './checkins.js';
import type { WebContext } from './context.js';
import { videoRoutes } from './routes-video.js';
import { createVideoCalls, type CallQuality, type VideoCalls } from './video-calls.js';
import { createIceProvider, type VideoIceConfig } from './video-ice.js';
import { attachSignalling } from './video-signalling.js';
import type { VideoExchange } from './video-exchange.js';
import type { HomeOwnership } from '../jobs/index.js';

export type { CallQuality } from './video-calls.js';
export type { CheckinReminder } from './checkins.js';
export type { VideoIceConfig, IceServer } from './video-ice.js';
export { turnCredentials } from './video-ice.js';
export { missedCheckinRule } from './checkins.js';
export { createLocalVideoExchange, createMemoryVideoNetwork, videoEnvelope, type PeerRef, type VideoEnvelope, type VideoExchange } from './video-exchange.js';

export interface VideoOptions {
  /** STUN/TURN (coturn shared secret) or Twilio Network Traversal; none: host candidates only (same network). */
  ice?: VideoIceConfig;
  /** `relay` sends all media through TURN (hides addresses; also how the relay test forces coturn). Default `all`. */
  iceTransportPolicy?: 'all' | 'relay';
  /** The tablet's warning before auto-answering a trusted caller (default 10 000 ms). */
  autoAnswerWarningMs?: number;
  /** Ringing stops after this and counts as "no answer" (default 60 000 ms of wall-clock time). */
  ringTimeoutMs?: number;
  /** At most this many people in one call, tablet included (default 4). */
  maxParticipants?: number;
  /** Reminder this long before a check-in (default 15 min). */
  reminderLeadMs?: number;
  /** A check-in nobody called for this long after it was due is missed (default 30 min). */
  missedGraceMs?: number;
  /** Missed check-ins (the hub: `notifier.handleFinding`). */
  raiseFinding?: (f: Finding) => unknown;
  /** Check-in reminders for the caregiver who will call. */
  remindCaregiver?: (r: CheckinReminder) => unknown;
  /** A cancelled check-in, told to the caregivers already reminded of it. */
  tellCancelled?: (r: CheckinReminder) => unknown;
  /** Call quality from the browsers (the hub: an InfluxDB point). */
  writeCallQuality?: (q: CallQuality) => unknown;
  /**
   * The other nodes of a cluster, for calls between browsers connected to
   * different nodes (cluster/video-exchange-redis.ts). Default: this node
   * alone. The caller closes it, after the web app.
   */
  exchange?: VideoExchange;
  /** Cluster mode: the check-in schedule's job owner (`<node>/<pid>:wall`) and the homes this node runs (jobs/). */
  jobs?: { owner: string; ownership: HomeOwnership };
}

const optionsSchema = z.object({
  iceTransportPolicy: z.enum(['all', 'relay']).optional(),
  autoAnswerWarningMs: z.number().int().min(0).max(120_000).optional(),
  ringTimeoutMs: z.number().int().min(1000).max(30 * 60_000).optional(),
  maxParticipants: z.number().int().min(2).max(4).optional(),
  reminderLeadMs: z.number().int().min(0).optional(),
  missedGraceMs: z.number().int().min(0).optional(),
});

export interface Video {
  checkins: Checkins;
  calls: VideoCalls;
  close(): Promise<void>;
}

/** Builds the video part and registers its routes and WebSocket on `app` (before `app.ready()`). */
export async function createVideo(app: FastifyInstance, ctx: WebContext, opts: VideoOptions = {}): Promise<Video> {
  const checked = optionsSchema.safeParse(opts);
  if (!checked.success) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `video: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ice = createIceProvider(opts.ice ?? {});
  const autoAnswerWarningMs = opts.autoAnswerWarningMs ?? 10_000;
  const changed = (homeId: string) => ctx.local.publish({ type: 'video.changed', homeId, at: ctx.clock.now() });
  const holder: { calls?: VideoCalls } = {};
  const checkins = createCheckins({
    store: ctx.store, wallClock: ctx.wallClock, clock: ctx.clock, logger: ctx.logger, changed,
    raiseFinding: opts.raiseFinding,
    remindCaregiver: async (r) => {
      ctx.local.publish({ type: 'video.reminder', homeId: r.homeId, at: ctx.clock.now() });
      await opts.remindCaregiver?.(r);
    },
    ...(opts.tellCancelled ? { tellCancelled: opts.tellCancelled } : {}),
    callInProgress: (id) => holder.calls?.callInProgress(id) ?? false,
    ...(opts.jobs ? { nodeId: opts.jobs.owner, ownership: opts.jobs.ownership } : {}),
    ...(opts.reminderLeadMs !== undefined ? { reminderLeadMs: opts.reminderLeadMs } : {}),
    ...(opts.missedGraceMs !== undefined ? { graceMs: opts.missedGraceMs } : {}),
  });
  const calls = createVideoCalls({
    store: ctx.store, wallClock: ctx.wallClock, logger: ctx.logger, access: ctx.access, checkins, changed,
    autoAnswerWarningMs, ringTimeoutMs: opts.ringTimeoutMs ?? 60_000, maxParticipants: opts.maxParticipants ?? 4,
    writeCallQuality: opts.writeCallQuality,
    ...(opts.exchange ? { exchange: opts.exchange } : {}),
  });
  holder.calls = calls;
  videoRoutes(app, ctx, { checkins, calls });
  // The reference hub (a backup served read-only) neither takes calls nor keeps the check-in schedule.
  const signalling = ctx.reference ? { close: async () => undefined } : attachSignalling({ app, auth: ctx.auth, calls, ice, logger: ctx.logger, autoAnswerWarningMs, iceTransportPolicy: opts.iceTransportPolicy ?? 'all' });
  if (!ctx.reference) await checkins.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await calls.close();
    await signalling.close();
    await checkins.close();
  };
  // Upgraded sockets keep the HTTP server open: end them before Fastify closes it.
  app.addHook('preClose', close);
  return { checkins, calls, close };
}
