/**
 * The browser's code, served from /static/: TypeScript files in
 * dashboards/client/ (their own tsconfig with the DOM types, linted with the
 * rest). The build (`npm run build`) compiles them next to the compiled server
 * (dist/dashboards/client/*.js); running from source (tests, `tap`), the
 * server compiles the one file it is asked for with TypeScript's single-file
 * transpiler, once per process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The client modules a page may load (`/static/<name>.js`). */
export const clientModules = ['app', 'live-regions', 'charts', 'video'] as const;
export type ClientModule = (typeof clientModules)[number];

export interface ClientAssets { script(name: ClientModule): Promise<string> }

/** Loads compiled client modules, or compiles them from source when running from source. */
export function createClientAssets(): ClientAssets {
  const cache = new Map<ClientModule, string>();
  return {
    async script(name) {
      const hit = cache.get(name);
      if (hit !== undefined) return hit;
      const compiled = fileURLToPath(new URL(`./client/${name}.js`, import.meta.url));
      const source = fileURLToPath(new URL(`./client/${name}.ts`, import.meta.url));
      let js: string;
      if (existsSync(compiled)) js = readFileSync(compiled, 'utf8');
      else if (existsSync(source)) {
        // Running from source: TypeScript is a development dependency, there whenever the sources are.
        const ts = (await import('typescript')).default;
        js = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ES2020 }, fileName: source }).outputText;
      } else throw new Error(`client module ${name} is not built (run npm run build)`);
      cache.set(name, js);
      return js;
    },
  };
}
