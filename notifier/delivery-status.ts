/**
 * Notification statuses only move forward: a late "sent" from the send call
 * must not overwrite a "delivered" receipt that raced ahead of it, and a
 * final status (delivered, undelivered, failed) is never replaced.
 */

/** Our own status for a notification written before the channel answered. */
export const pendingStatus = 'pending';

const rank: Record<string, number> = {
  [pendingStatus]: 0,
  accepted: 1, scheduled: 1, queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4, read: 4, undelivered: 4, failed: 4, canceled: 4,
};

/** Whether a notification at `current` may move to `next`. Unknown words rank just above pending. */
export function advancesStatus(current: string, next: string): boolean {
  const c = rank[current] ?? 1;
  const n = rank[next] ?? 1;
  return c < 4 && n > c;
}

/** Whether `status` means the recipient did not (and will not) get the message. */
export function isFailedStatus(status: string): boolean {
  return status === 'failed' || status === 'undelivered' || status === 'canceled';
}

/**
 * A message the per-person budget held back (escalation-engine.ts): not sent,
 * not failed — the person hears of it in one summary when the window allows,
 * after which it becomes `summarizedStatus`.
 */
export const heldStatus = 'held';
export const summarizedStatus = 'summarized';
