/**
 * Outings read from the front door and the motion sensors: the door, then no
 * motion inside for a while, then the door again. Shared by the family's daily
 * digest (history/history-queries.ts), the family page's day timeline and the
 * monthly report (dashboards/).
 *
 * Only a sensor going active is a person's doing (rules/presence.ts says the
 * same for the rules): a motion sensor clearing a few minutes after she left
 * is not her moving inside, and a door that opens and closes within
 * `doorPassageMs` is one passage, not a leaving and a coming home.
 */

/** A gap this long with no motion inside after the front door closes means she went out. */
export const outingGapMs = 20 * 60_000;
/** Door events this close together are one passage through the door (open, then close behind her). */
export const doorPassageMs = 2 * 60_000;

export interface Outing { from: number; to?: number }

/**
 * One door or motion event. `active: false` marks a sensor returning to rest
 * (a motion sensor clearing); such motion is not someone inside. Without
 * `active`, every motion event counts as movement.
 */
export interface Move { at: number; kind: string; active?: boolean }

/**
 * The outings in `moves` (door and motion events of one home, oldest first),
 * looking no further than `until`; an outing still under way at `until` has
 * no `to`.
 *
 * @example findOutings([{ at: t, kind: 'door' }, { at: t + 3_600_000, kind: 'door' }], end) // [{ from: t, to: t + 3_600_000 }]
 */
export function findOutings(moves: ReadonlyArray<Move>, until: number): Outing[] {
  const events = moves.filter((m) => m.kind === 'door' || (m.kind === 'motion' && m.active !== false));
  const outings: Outing[] = [];
  let open: { from: number; lastDoor: number } | undefined;
  for (const [i, m] of events.entries()) {
    if (m.kind !== 'door') continue;
    if (open) {
      // The rest of the passage she went out by (the door closing behind her) does not bring her back.
      if (m.at - open.lastDoor < doorPassageMs) { open.lastDoor = m.at; continue; }
      outings.push({ from: open.from, to: m.at });
      open = undefined;
      continue;
    }
    const later = events.slice(i + 1);
    const nextMotion = later.find((n) => n.kind === 'motion');
    const nextDoor = later.find((n) => n.kind === 'door');
    const quietUntil = nextMotion?.at ?? until;
    if (quietUntil - m.at >= outingGapMs && (!nextDoor || nextDoor.at <= quietUntil)) open = { from: m.at, lastDoor: m.at };
  }
  if (open) outings.push({ from: open.from });
  return outings;
}
