/**
 * The port between the video call registry (video-calls.ts) and the other
 * nodes of a cluster: a caregiver's browser on node A and the resident's
 * tablet on node B set up a call by exchanging envelopes through it.
 *
 * A call lives on the node its caller is connected to. The other nodes
 * forward their browsers' messages about that call to it (`client`), it
 * answers each browser through that browser's node (`to-peer`), rings a
 * home's tablets on every node (`to-tablets`), learns of a tablet that opens
 * while a call rings (`tablet-here`) and of a browser that went away
 * (`gone`). A home is in at most one call across the cluster
 * (`claimHome`).
 *
 * The single-process web app uses the in-memory exchange below (one node,
 * nothing crosses); the cluster uses the Redis one
 * (cluster/video-exchange-redis.ts). One contract suite runs both.
 */
import { z } from 'zod';
import { clientMessage, type ClientMessage, type ServerMessage } from './video-protocol.js';

/** A browser connected to some node, as another node knows it. */
export interface PeerRef {
  id: string;
  accountId: string;
  /** The node the browser is connected to. */
  node: string;
  /** For a tablet page: the home whose resident it is signed in as. */
  tabletHome?: string;
}

export type VideoEnvelope =
  /** A browser's message about a call held by the receiving node. */
  | { kind: 'client'; from: PeerRef; message: ClientMessage }
  /** A message for one browser connected to the receiving node. */
  | { kind: 'to-peer'; peerId: string; message: ServerMessage }
  /** A message for every tablet page of a home on the receiving node, but those in `except`. */
  | { kind: 'to-tablets'; homeId: string; message: ServerMessage; except: string[] }
  /** A tablet page opened (nodes with a call ringing for its home send it `incoming`). */
  | { kind: 'tablet-here'; peer: PeerRef }
  /** A browser went away: it leaves the calls it was in. */
  | { kind: 'gone'; peerId: string };

export interface VideoExchange {
  /** This node's name; unique in the cluster. */
  readonly nodeId: string;
  /** Sends to every other node (resolves once the transport has it). */
  broadcast(e: VideoEnvelope): Promise<void>;
  /** Sends to one node (itself included). */
  send(node: string, e: VideoEnvelope): Promise<void>;
  /** Envelopes addressed to this node, or broadcast by another, in the order each sender sent them. */
  receive(fn: (e: VideoEnvelope) => void): () => void;
  /** Marks `homeId` as in call `callId`, held by this node; false when another call holds the home. */
  claimHome(homeId: string, callId: string): Promise<boolean>;
  /** Ends a claim (only if `callId` still holds the home). */
  releaseHome(homeId: string, callId: string): Promise<void>;
  /** The node holding a call, while it lasts. */
  nodeOfCall(callId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

const id = z.string().min(1).max(200);
const peerRef = z.object({ id, accountId: id, node: id, tabletHome: id.optional() });
/** Server messages are made by our own nodes; checked for shape, passed on as they are. */
const serverMessage = z.looseObject({ type: z.string().min(1).max(40) });

/** Validates an envelope that came over a transport; throws a readable error for anything else. */
export const videoEnvelope: z.ZodType<VideoEnvelope> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('client'), from: peerRef, message: clientMessage }),
  z.object({ kind: z.literal('to-peer'), peerId: id, message: serverMessage }),
  z.object({ kind: z.literal('to-tablets'), homeId: id, message: serverMessage, except: z.array(id).max(16) }),
  z.object({ kind: z.literal('tablet-here'), peer: peerRef }),
  z.object({ kind: z.literal('gone'), peerId: id }),
]) as unknown as z.ZodType<VideoEnvelope>;

/**
 * Several nodes in one process (tests of the call rules across nodes, and
 * the single-process web app as a network of one). Envelopes are delivered
 * asynchronously, in send order, as a transport would.
 */
export function createMemoryVideoNetwork() {
  const nodes = new Map<string, Set<(e: VideoEnvelope) => void>>();
  const homes = new Map<string, { callId: string; node: string }>();
  const callNodes = new Map<string, string>();
  // One queue for the network keeps every sender's order.
  let queue: Promise<void> = Promise.resolve();
  function deliver(node: string, e: VideoEnvelope): Promise<void> {
    const copy = structuredClone(e);
    queue = queue.then(() => { for (const fn of [...nodes.get(node) ?? []]) fn(copy); });
    return Promise.resolve();
  }
  return {
    /** The exchange of node `nodeId` on this network. */
    node(nodeId: string): VideoExchange {
      if (nodes.has(nodeId)) throw new Error(`video node ${nodeId} already on this network`);
      nodes.set(nodeId, new Set());
      return {
        nodeId,
        broadcast: async (e) => { for (const n of nodes.keys()) if (n !== nodeId) await deliver(n, e); },
        send: (node, e) => deliver(node, e),
        receive(fn) {
          nodes.get(nodeId)?.add(fn);
          return () => { nodes.get(nodeId)?.delete(fn); };
        },
        async claimHome(homeId, callId) {
          if (homes.has(homeId)) return false;
          homes.set(homeId, { callId, node: nodeId });
          callNodes.set(callId, nodeId);
          return true;
        },
        async releaseHome(homeId, callId) {
          if (homes.get(homeId)?.callId === callId) homes.delete(homeId);
          callNodes.delete(callId);
        },
        nodeOfCall: async (callId) => callNodes.get(callId),
        async close() {
          nodes.delete(nodeId);
          for (const [home, c] of homes) if (c.node === nodeId) { homes.delete(home); callNodes.delete(c.callId); }
        },
      };
    },
  };
}

/** The single-process web app's exchange: a network of one node. */
export function createLocalVideoExchange(): VideoExchange {
  return createMemoryVideoNetwork().node('local');
}
