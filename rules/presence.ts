/**
 * Is she inside? What the sensors of real homes say (issue 10).
 *
 * Only a sensor going *active* is a person's doing: movement, a cupboard or
 * inner door opening, the kettle switched on, a button. A contact returning
 * to rest ("closed") can be a reed switch letting go by itself long after —
 * on the Tapia recordings a microwave door "closed" 35 minutes after she left
 * and was taken for her coming home. Flows and power move by themselves (a
 * latched float, an appliance's own cycle, a bath that fills on a timer), so
 * they do not say she is inside — except in a home where no motion sensor
 * watches a room (`roomMotionKey` never set): there a tap or the gas cooker
 * turned on after the front door is all that can tell she came in, and read
 * as "still out" a collapse after cooking waits for the out-of-home limit
 * (messy corpus: in at 14:10, the gas cooker at 18:48, "out, nothing inside
 * since" at 20:55). Where a motion sensor would have seen her, a flow with no
 * movement is the appliance's.
 *
 * Activity within `leavingMs` after the front door closed belongs to the same
 * passage (on the Tapia recordings the hall light switch fires 2 s after the
 * door as she leaves): it does not end an outing.
 */
import type { Reading } from '../core/events.js';
import { NONE, type HomeState } from './home-state.js';

const MIN = 60_000;
/** One passage through the front door: two closes this close together are a bouncing reed. */
export const doorPassageMs = 2 * MIN;
/** Activity this soon after the front door closed is still her leaving (sensor clocks disagree by seconds). */
export const leavingMs = 30_000;
/** A sign inside during an outing shows her home once another follows this soon (no-sign-of-life.ts, `confirmsInside`). */
export const confirmInsideMs = 10 * MIN;
/** One motion sensor alone shows her home when its signs span this long. */
export const oneDeviceSpanMs = 2 * MIN;
/**
 * No sign of her inside for this long before the front door opened: she was
 * out (whether or not her leaving was seen), so this passage is her coming home.
 * In a home with no motion sensor in its rooms, no shorter than noSignOfLife's
 * fixed warning: there an hour with no cupboard or kettle is her at home.
 */
export const arrivalQuietMs = 60 * MIN;

/** Whether `r` is the resident doing something inside; `frontDoor` says whether `r` is the front door. */
export function isInsideActivation(r: Reading, frontDoor: boolean): boolean {
  switch (r.kind) {
    case 'motion': return r.occupied;
    case 'door': return r.open && !frontDoor;
    case 'kettle': return r.state === 'on';
    case 'button': return true;
    default: return false;
  }
}

/**
 * Home-level mark: when a motion sensor that watches a room (not a pressure mat) first
 * reported movement. Set by noSignOfLife; while it is absent, flows starting say she is in.
 */
export const roomMotionKey = 'presence/room-motion';

/** Whether no motion sensor has watched a room of the home yet (`roomMotionKey` unset), given its marks. */
export function noRoomMotion(marks: ReadonlyMap<string, number> | undefined): boolean {
  return marks?.get(roomMotionKey) === undefined;
}

/**
 * Whether `r` shows her back inside after the front door closed at `doorClosedAt` (an outing
 * began); `flowsSay`: the home has no room motion sensor, so water or gas starting to flow does too.
 */
export function endsOuting(r: Reading, frontDoor: boolean, doorClosedAt: number, flowsSay = false): boolean {
  if (r.at - doorClosedAt < leavingMs) return false;
  return isInsideActivation(r, frontDoor) || (flowsSay && (r.kind === 'water' || r.kind === 'gas') && r.flowing);
}

/**
 * Home-level mark (set by noSignOfLife): the front-door close that began the current outing,
 * when it may be a visitor leaving alone rather than her (an uncertain departure).
 */
export const uncertainOutKey = 'presence/uncertain-out';

/** Whether the current outing began with a front-door close that may be the visitor leaving alone. */
export function uncertainOut(home: HomeState): boolean {
  return home.outSince !== NONE && home.marks?.get(uncertainOutKey) === home.outSince;
}

/** Home-level mark (set by noSignOfLife): the front-door close read as her coming home (an arrival). */
export const arrivedKey = 'presence/arrived';

/**
 * Whether the front door opening at `at` is her coming home: she went out (the front door
 * closed behind her and nothing has moved inside since: `home.outSince`, kept by noSignOfLife)
 * and not as part of this same passage, and it was not a visitor leaving on their own; or the
 * passage she just came home by is still going on (a reed that bounces, a door opened twice).
 */
export function comingHome(home: HomeState, at: number): boolean {
  if (home.outSince !== NONE) return !uncertainOut(home) && at - home.outSince >= doorPassageMs;
  const arrived = home.marks?.get(arrivedKey);
  return arrived !== undefined && at - arrived < doorPassageMs;
}
