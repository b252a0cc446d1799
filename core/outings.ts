/**
 * Outings read from the front door and the motion sensors: the door, then no
 * motion inside for a while, then the door again. Shared by the family's daily
 * digest (cli/history-queries.ts) and the monthly report (dashboards/).
 */

/** A gap this long with no motion inside after the front door closes means she went out. */
export const outingGapMs = 20 * 60_000;

export interface Outing { from: number; to?: number }

/**
 * The outings in `moves` (door and motion events of one home, oldest first),
 * looking no further than `until`; an outing still under way at `until` has
 * no `to`.
 *
 * @example findOutings([{ at: t, kind: 'door' }, { at: t + 3_600_000, kind: 'door' }], end) // [{ from: t, to: t + 3_600_000 }]
 */
export function findOutings(moves: ReadonlyArray<{ at: number; kind: string }>, until: number): Outing[] {
  const outings: Outing[] = [];
  let open: { from: number } | undefined;
  for (const [i, m] of moves.entries()) {
    if (m.kind !== 'door') continue;
    if (open) { outings.push({ from: open.from, to: m.at }); open = undefined; continue; }
    const nextMotion = moves.slice(i + 1).find((n) => n.kind === 'motion');
    const nextDoor = moves.slice(i + 1).find((n) => n.kind === 'door');
    const quietUntil = nextMotion?.at ?? until;
    if (quietUntil - m.at >= outingGapMs && (!nextDoor || nextDoor.at <= quietUntil)) open = { from: m.at };
  }
  if (open) outings.push({ from: open.from });
  return outings;
}
