/**
 * The project's Node-RED node set: Node-RED calls the default export with
 * its node API when it loads the set (see ../node-package.ts for how the
 * embedded runtime finds it).
 */
import { registerAlertIn } from './alert-in.js';
import { registerEventIn } from './event-in.js';
import { registerFindingOut } from './finding-out.js';
import { registerHomeConfig } from './home-config.js';
import { registerNotify } from './notify.js';
import type { RedApi } from './red.js';

export { homeConfigType } from './home-config.js';
export { eventInType } from './event-in.js';
export { findingOutType } from './finding-out.js';
export { alertInType } from './alert-in.js';
export { notifyType } from './notify.js';

/** Registers every mimamori node type with Node-RED. */
export default function registerMimamoriNodes(RED: RedApi): void {
  registerHomeConfig(RED);
  registerEventIn(RED);
  registerFindingOut(RED);
  registerAlertIn(RED);
  registerNotify(RED);
}
