/**
 * The browser's code, served from /static/: TypeScript files in
 * dashboards/client/ (their own tsconfig with the DOM types, linted with the
 * rest). The build (`npm run build`) compiles them next to the compiled server
 * (dist/dashboards/client/*.js); running from source (tests, `tap`), the
 * server compiles the one file it is asked for with TypeScript's single-file
 * transpiler, once per process. Plain files (dashboards/static/) are served
 * as they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The client modules a page may load (`/static/<name>.js`). */
export const clientModules = ['app', 'live-regions', 'charts', 'video', 'push', 'sw'] as const;
export type ClientModule = (typeof clientModules)[number];

/** Files served as they are from dashboards/static/ (the stylesheet, the icon, the web app manifest). */
export const staticFiles = {
  'app.css': 'text/css; charset=utf-8',
  'favicon.ico': 'image/x-icon',
  'icon.svg': 'image/svg+xml',
  'icon-192.png': 'image/png',
  'icon-512.png': 'image/png',
  // The one web app manifest (a service worker, when there is one, is a client module beside it).
  'manifest.webmanifest': 'application/manifest+json',
} as const satisfies Record<string, string>;
export type StaticFile = keyof typeof staticFiles;

export interface ClientAssets {
  script(name: ClientModule): Promise<string>;
  file(name: StaticFile): Buffer;
}

/** Loads compiled client modules, or compiles them from source when running from source. */
export function createClientAssets(): ClientAssets {
  const cache = new Map<ClientModule, string>();
  const files = new Map<StaticFile, Buffer>();
  return {
    file(name) {
      const hit = files.get(name);
      if (hit) return hit;
      // Beside this module when running from source; the compiled server (dist/dashboards/) reads the source folder.
      const found = [`./static/${name}`, `../../dashboards/static/${name}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((p) => existsSync(p));
      if (!found) throw new Error(`static file ${name} is missing from dashboards/static/`);
      const bytes = readFileSync(found);
      files.set(name, bytes);
      return bytes;
    },
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
