/**
 * Is she inside? What the sensors of real homes say (issue 10).
 *
 * Only a sensor going *active* is a person's doing: movement, a cupboard or
 * inner door opening, the kettle switched on, a button. A contact returning
 * to rest ("closed") can be a reed switch letting go by itself long after —
 * on the Tapia recordings a microwave door "closed" 35 minutes after she left
 * and was taken for her coming home. Flows and power move by themselves (a
 * latched float, an appliance's own cycle), so they never say she is inside.
 *
 * Activity within `leavingMs` after the front door closed belongs to the same
 * passage (on the Tapia recordings the hall light switch fires 2 s after the
 * door as she leaves): it does not end an outing.
 */
import type { Reading } from '../core/events.js';

const MIN = 60_000;
/** One passage through the front door: two closes this close together are a bouncing reed. */
export const doorPassageMs = 2 * MIN;
/** Activity this soon after the front door closed is still her leaving (sensor clocks disagree by seconds). */
export const leavingMs = 30_000;
/**
 * No sign of her inside for this long before the front door opened: she was
 * out (whether or not her leaving was seen), so this passage is her coming home.
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

/** Whether `r` shows her back inside after the front door closed at `doorClosedAt` (an outing began). */
export function endsOuting(r: Reading, frontDoor: boolean, doorClosedAt: number): boolean {
  return r.at - doorClosedAt >= leavingMs && isInsideActivation(r, frontDoor);
}
