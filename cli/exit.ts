import { isMimamoriError } from '../core/errors.js';

/**
 * Ending the `mimamori` process without losing output. `process.exit()`
 * drops whatever is still queued on a piped stdout (Node writes to pipes
 * asynchronously), so `mimamori replay big.ndjson | consumer` lost the end of
 * its findings; this waits until every queued write has been handed to the
 * pipe, then exits.
 */

/** Calls `exit(code)` once everything already written to `streams` has been flushed. */
export function exitWhenFlushed(code: number, streams: NodeJS.WritableStream[] = [process.stdout, process.stderr], exit: (code: number) => void = (c) => process.exit(c)): void {
  process.exitCode = code;
  let pending = streams.length;
  if (pending === 0) { exit(code); return; }
  const done = () => { if (--pending === 0) exit(code); };
  // An empty write's callback runs after every write queued before it: the stream is flushed up to here.
  for (const s of streams) s.write('', () => done());
}

/**
 * The exit code of a command that failed with `err`: 2 when the person's
 * arguments were refused (a missing or malformed option, an unknown home or
 * facility: MIMAMORI_ERR_INVALID_INPUT, MIMAMORI_ERR_NOT_FOUND), 1 for
 * anything else (a conflict, the store failed).
 */
export function exitCodeOf(err: unknown): 1 | 2 {
  return isMimamoriError(err, 'MIMAMORI_ERR_INVALID_INPUT') || isMimamoriError(err, 'MIMAMORI_ERR_NOT_FOUND') ? 2 : 1;
}
