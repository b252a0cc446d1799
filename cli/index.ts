/**
 * The command line's front door: `main(argv, env, io)` runs one `mimamori`
 * command (cli/main.ts; docs/cli.md). The commands are thin: they parse
 * arguments and call the other folders through their front doors.
 */
export { main, type CliIo } from './main.js';
export { startHub, type Hub, type HubOptions } from './hub.js';
