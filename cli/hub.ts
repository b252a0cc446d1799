/**
 * `mimamori start`'s hub: the composition root is hub/ (hub/index.ts,
 * `startHub`); this file only keeps the names the CLI and its tests know.
 */
export { startHub, type Hub, type HubOptions } from '../hub/index.js';
