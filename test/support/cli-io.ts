/** A `CliIo` that keeps what the command printed, for assertions. */
import type { CliIo } from '../../cli/main.js';

export function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [], stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}
