/**
 * Checks the flow file before Node-RED reads it. Node-RED would start a
 * broken file as "no flows" and overwrite it on the next deploy, losing the
 * user's work; we move it aside, say so clearly, and the hub runs on.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';

export interface FlowFileCheck {
  ok: boolean;
  /** What is wrong, in words a user can act on. */
  problem?: string;
  /** Where a broken file was moved. */
  movedTo?: string;
}

/** Why the text of a flow file is not a flow, or undefined when it is one. */
export function flowFileProblem(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try { value = JSON.parse(text); } catch (err) { return `not valid JSON (${(err as Error).message})`; }
  if (!Array.isArray(value)) return 'not a JSON array of nodes';
  for (const [i, n] of value.entries()) {
    if (!n || typeof n !== 'object' || Array.isArray(n)) return `entry ${i} is not an object`;
    const { id, type } = n as { id?: unknown; type?: unknown };
    if (typeof id !== 'string' || id === '') return `entry ${i} has no "id"`;
    if (typeof type !== 'string' || type === '') return `entry ${i} (${id}) has no "type"`;
  }
  return undefined;
}

/** Checks `file`; a broken one is renamed to `<file>.invalid-<at>` so Node-RED starts without it. */
export function checkFlowFile(file: string, at: number): FlowFileCheck {
  if (!existsSync(file)) return { ok: true };
  const problem = flowFileProblem(readFileSync(file, 'utf8'));
  if (!problem) return { ok: true };
  const movedTo = `${file}.invalid-${new Date(at).toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, movedTo);
  return { ok: false, problem, movedTo };
}

/** Node types a flow file uses (for reporting the ones no module provides). */
export function flowFileTypes(file: string): string[] {
  if (!existsSync(file)) return [];
  try {
    const nodes = JSON.parse(readFileSync(file, 'utf8')) as Array<{ type?: unknown }>;
    return [...new Set(nodes.map((n) => n.type).filter((t): t is string => typeof t === 'string'))];
  } catch {
    return [];
  }
}
