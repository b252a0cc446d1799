#!/usr/bin/env node
// The installed `mimamori` command: runs the compiled CLI (`npm run build` first).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(`mimamori: ${err && err.code ? `${err.code} ` : ''}${err && err.message}`);
  process.exit(1);
});
