/**
 * How a test starts one of the project's TypeScript files as a child process
 * (a hub to kill -9, an escalation child, `mimamori bridge run`): Node with
 * the caching transpiler of ./ts-loader/, so a restarted child — and every
 * later child in the run — loads JavaScript transpiled once instead of
 * compiling the hub again (a warm start costs a quarter of the CPU of
 * tap's ts-node loader: ~3 s instead of ~12 s for the whole hub).
 *
 *   spawn(process.execPath, tsChildArgs(entry, 'arg'), …)
 */
import { fileURLToPath } from 'node:url';

const register = fileURLToPath(new URL('./ts-loader/register.mjs', import.meta.url));

/** `node` arguments that run `entry` (a .ts file of the project) with `args`. */
export function tsChildArgs(entry: string, ...args: string[]): string[] {
  return ['--import', register, entry, ...args];
}
