/**
 * The tamper-evident trail: the audit log and the access log are hash chains.
 * Every record carries its position (`seq`, 1, 2, 3 … with no gaps), the hash
 * of the record before it (`prev_hash`; 64 zeros for the first) and its own
 * hash over a canonical serialization of its fields and that previous hash.
 * Editing a record changes its hash; removing or reordering records breaks
 * the `seq` run or the link to the previous hash. Removing the newest records
 * leaves a shorter but valid chain, which is why the chain head (seq + hash)
 * is put into every backup's manifest and shown to operators: a head recorded
 * earlier that is no longer in the chain shows what went missing.
 *
 * Canonical serialization (version 1): the SHA-256, in lower-case hex, of the
 * UTF-8 bytes of `JSON.stringify([tag, seq, prevHash, …fields])`, where `tag`
 * is `mimamori-audit-v1` or `mimamori-access-v1` and the fields are the
 * stored column values in the order of `trailColumns` (strings as stored —
 * the audit `detail` is its JSON text — integers as numbers, NULL as null).
 * JSON.stringify of an array of strings, safe integers and null is fully
 * determined, so any implementation (PostgreSQL included) can recompute it.
 */
import { createHash } from 'node:crypto';

export type TrailKind = 'audit' | 'access';

/** The hash a first record links to. */
export const genesisHash = '0'.repeat(64);

/** Table and hashed columns of each trail, in canonical order. */
export const trailColumns: Record<TrailKind, { table: string; tag: string; columns: readonly string[] }> = {
  audit: { table: 'audit_log', tag: 'mimamori-audit-v1', columns: ['id', 'at', 'actor', 'action', 'subject', 'detail'] },
  access: { table: 'access_log', tag: 'mimamori-access-v1', columns: ['id', 'at', 'viewer_id', 'home_id', 'what'] },
};

/** One stored trail record: its chain fields and the hashed columns by name. */
export interface TrailRow { seq: number | null; prevHash: string | null; hash: string | null; fields: Record<string, unknown> }

/** Where a chain ends: the newest record's position and hash (seq 0 and the genesis hash when empty). */
export interface TrailHead { seq: number; hash: string }

/** The hash of one record given its position, the previous hash and its stored column values. */
export function trailHash(kind: TrailKind, seq: number, prevHash: string, fields: Record<string, unknown>): string {
  const spec = trailColumns[kind];
  const values = spec.columns.map((c) => {
    const v = fields[c];
    if (v === undefined || v === null) return null;
    return typeof v === 'bigint' ? Number(v) : v;
  });
  return createHash('sha256').update(JSON.stringify([spec.tag, seq, prevHash, ...values]), 'utf8').digest('hex');
}

/** A place where the chain is broken, in words an operator can act on. */
export interface TrailProblem {
  kind: TrailKind;
  /** The record's position as stored (or where one is missing). */
  seq: number | null;
  /** The record's id, when there is a record. */
  id?: string;
  problem: 'edited' | 'missing' | 'reordered' | 'unsealed' | 'truncated';
  message: { ja: string; en: string };
}

export interface TrailReport { kind: TrailKind; records: number; head: TrailHead; problems: TrailProblem[] }

/**
 * Checks a chain, given its rows in stored `seq` order (rows without a seq
 * last), and optionally heads recorded earlier (backup manifests): every
 * record must be sealed, numbered 1…n without gaps, link to its
 * predecessor's hash and hash to its stored value.
 *
 * - edited: the record's own hash does not match its fields;
 * - missing: a seq is skipped (a record was deleted);
 * - reordered: the record links to a hash other than its predecessor's,
 *   though its own hash is intact (records were moved or renumbered);
 * - unsealed: a record without a seq/hash (written around the store);
 * - truncated: a head recorded earlier is no longer in the chain.
 */
export function verifyTrail(kind: TrailKind, rows: TrailRow[], knownHeads: TrailHead[] = []): TrailReport {
  const problems: TrailProblem[] = [];
  // Where each record was written, recovered by following the links from the genesis hash.
  const byPrev = new Map<string, TrailRow>();
  for (const row of rows) if (row.prevHash !== null && !byPrev.has(row.prevHash)) byPrev.set(row.prevHash, row);
  const writtenAt = new Map<TrailRow, number>();
  for (let link = genesisHash, k = 1, next = byPrev.get(link); next && !writtenAt.has(next); k++, next = next.hash === null ? undefined : byPrev.get(next.hash)) {
    writtenAt.set(next, k);
  }
  const bySeq = new Map<number, string>();
  let expectedSeq = 1;
  let prev = genesisHash;
  let prevFlagged = false;
  let head: TrailHead = { seq: 0, hash: genesisHash };
  for (const row of rows) {
    const id = typeof row.fields.id === 'string' ? row.fields.id : undefined;
    const at = id === undefined ? {} : { id };
    if (row.seq === null || row.hash === null || row.prevHash === null) {
      problems.push({ kind, seq: row.seq, ...at, problem: 'unsealed', message: { ja: `記録 ${id ?? '?'} は連鎖に含まれていません（ストアを経由せず書き込まれました）`, en: `record ${id ?? '?'} is not sealed into the chain (written around the store)` } });
      continue;
    }
    const before = problems.length;
    let linkChecked = !prevFlagged;
    if (row.seq > expectedSeq) {
      const gap = row.seq - expectedSeq;
      problems.push({ kind, seq: expectedSeq, problem: 'missing', message: { ja: `番号 ${expectedSeq}${gap > 1 ? `〜${row.seq - 1}` : ''} の記録が削除されています`, en: `${gap} record(s) missing at seq ${expectedSeq}${gap > 1 ? `–${row.seq - 1}` : ''}` } });
      linkChecked = false;
    } else if (row.seq < expectedSeq) {
      problems.push({ kind, seq: row.seq, ...at, problem: 'reordered', message: { ja: `番号 ${row.seq} が重複しています`, en: `seq ${row.seq} appears twice` } });
      linkChecked = false;
    }
    if (trailHash(kind, row.seq, row.prevHash, row.fields) !== row.hash) {
      const was = writtenAt.get(row);
      if (was !== undefined && was !== row.seq && trailHash(kind, was, row.prevHash, row.fields) === row.hash) {
        problems.push({ kind, seq: row.seq, ...at, problem: 'reordered', message: { ja: `番号 ${was} の記録が番号 ${row.seq} に移されています`, en: `the record written at seq ${was} now stands at seq ${row.seq} (records reordered)` } });
      } else {
        problems.push({ kind, seq: row.seq, ...at, problem: 'edited', message: { ja: `番号 ${row.seq} の記録が書き換えられています`, en: `record at seq ${row.seq} was edited (its hash does not match its contents)` } });
      }
    } else if (linkChecked && row.prevHash !== prev) {
      problems.push({ kind, seq: row.seq, ...at, problem: 'reordered', message: { ja: `番号 ${row.seq} の記録が前の記録とつながっていません（並べ替え、または前の記録の差し替え）`, en: `record at seq ${row.seq} does not link to the record before it (records reordered, or the one before replaced)` } });
    }
    prevFlagged = problems.length > before;
    bySeq.set(row.seq, row.hash);
    prev = row.hash;
    expectedSeq = Math.max(expectedSeq, row.seq + 1);
    head = { seq: row.seq, hash: row.hash };
  }
  for (const known of knownHeads) {
    if (known.seq === 0) continue;
    const now = bySeq.get(known.seq);
    if (now === undefined) {
      problems.push({ kind, seq: known.seq, problem: 'truncated', message: { ja: `以前に記録した先頭（番号 ${known.seq}）が見つかりません。それ以降の記録が削除されています`, en: `a head recorded earlier (seq ${known.seq}) is gone: records up to it were removed` } });
    } else if (now !== known.hash) {
      problems.push({ kind, seq: known.seq, problem: 'edited', message: { ja: `以前に記録した先頭（番号 ${known.seq}）と一致しません`, en: `the record at a head recorded earlier (seq ${known.seq}) no longer has the recorded hash` } });
    }
  }
  return { kind, records: rows.length, head, problems };
}
