// `node --import <this file> child.ts …`: runs a TypeScript child of a test
// with the caching transpiler in ./hooks.mjs (cache: <project>/.cache/ts-child).
import { register } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
register('./hooks.mjs', import.meta.url, { data: { cacheDir: join(root, '.cache', 'ts-child') } });
