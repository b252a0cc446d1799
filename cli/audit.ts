/**
 * `mimamori audit verify`: checks the audit log and the access log hash
 * chains (core/trail.ts) against themselves and against the chain heads
 * recorded in every backup, and says where a record was edited, removed or
 * reordered.
 */
import type { TrailStore } from '../core/store.js';
import { verifyTrail, type TrailHead, type TrailKind, type TrailReport } from '../core/trail.js';

/** Both chains' reports; heads recorded by earlier backups catch records removed from the end. */
export async function verifyTrails(store: TrailStore): Promise<TrailReport[]> {
  const known: Record<TrailKind, TrailHead[]> = { audit: [], access: [] };
  for (const b of await store.listBackups(1000)) {
    if (b.status !== 'ok' || !b.heads) continue;
    known.audit.push(b.heads.audit);
    known.access.push(b.heads.access);
  }
  const out: TrailReport[] = [];
  for (const kind of ['audit', 'access'] as const) out.push(verifyTrail(kind, await store.readTrail(kind), known[kind]));
  return out;
}

/** Lines for the terminal: one per chain, then one per problem (English, then Japanese). */
export function describeTrailReports(reports: TrailReport[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    const name = r.kind === 'audit' ? 'audit log / 監査ログ' : 'access log / 閲覧記録';
    lines.push(`${name}: ${r.records} record(s), head seq ${r.head.seq} ${r.head.hash} — ${r.problems.length === 0 ? 'intact / 改ざんなし' : `${r.problems.length} problem(s) / 問題 ${r.problems.length} 件`}`);
    for (const p of r.problems) lines.push(`  ${p.problem} seq ${p.seq ?? '-'}${p.id ? ` id ${p.id}` : ''}: ${p.message.en} / ${p.message.ja}`);
  }
  return lines;
}
