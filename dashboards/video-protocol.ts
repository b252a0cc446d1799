/**
 * The video signalling protocol: what a browser may send over the WebSocket
 * (validated here, once, with zod; anything else is refused with a reason)
 * and what the hub sends back. SDP and ICE candidates are relayed as opaque,
 * size-limited objects between participants of the same call only.
 */
import { z } from 'zod';

const id = z.string().min(1).max(64);
/** An SDP description or an ICE candidate; the hub never looks inside. */
const signalData = z.object({
  description: z.object({ type: z.enum(['offer', 'answer', 'pranswer', 'rollback']), sdp: z.string().max(64 * 1024).optional() }).optional(),
  candidate: z.object({ candidate: z.string().max(2048), sdpMid: z.string().max(64).nullable().optional(), sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(), usernameFragment: z.string().max(256).nullable().optional() }).nullable().optional(),
});

export const clientMessage = z.discriminatedUnion('type', [
  /** A caregiver calls a home: for a scheduled check-in, ad hoc, or as an emergency look-in for an alert. */
  z.object({ type: z.literal('call'), home: id, checkin: id.optional(), lookIn: id.optional() }),
  /** The tablet answers (`auto`: after the on-screen warning, allowed only for trusted callers and look-ins). */
  z.object({ type: z.literal('answer'), callId: id, auto: z.boolean() }),
  /** The tablet declines ("not now"). */
  z.object({ type: z.literal('decline'), callId: id }),
  /** Family (or another caregiver) joins a connected call of their home. */
  z.object({ type: z.literal('join'), callId: id }),
  z.object({ type: z.literal('signal'), callId: id, to: id, data: signalData }),
  /** Leave (or, for the caller while ringing, cancel). */
  z.object({ type: z.literal('hangup'), callId: id }),
  /** Call quality from the browser's getStats, sent when the call ends. */
  z.object({
    type: z.literal('quality'), callId: id,
    rttMs: z.number().min(0).max(60_000).optional(), packetLossPct: z.number().min(0).max(100).optional(),
    durationMs: z.number().min(0).max(24 * 3600_000), framesDecoded: z.number().int().min(0).optional(),
  }),
]);

export type ClientMessage = z.infer<typeof clientMessage>;
export type SignalData = z.infer<typeof signalData>;

export type EndReason = 'declined' | 'no-answer' | 'cancelled' | 'ended';

export type ServerMessage =
  | { type: 'welcome'; peerId: string; role: string; iceServers: unknown[]; iceTransportPolicy: 'all' | 'relay'; autoAnswerWarningMs: number }
  | { type: 'ringing'; callId: string; home: string }
  | { type: 'incoming'; callId: string; from: { id: string; name: string }; autoAnswerMs: number | null; lookIn: boolean }
  | { type: 'joined'; callId: string; home: string; offerTo: string[]; names: Record<string, string> }
  | { type: 'peer-joined'; callId: string; peer: string; name: string }
  | { type: 'peer-left'; callId: string; peer: string }
  | { type: 'signal'; callId: string; from: string; data: SignalData }
  | { type: 'ended'; callId: string; reason: EndReason }
  | { type: 'error'; code: string; message: string; callId?: string };
