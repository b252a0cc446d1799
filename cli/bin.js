#!/usr/bin/env node
// The installed `mimamori` command: runs the compiled CLI (`npm run build` first).
import { main } from '../dist/cli/main.js';
import { exitWhenFlushed } from '../dist/cli/exit.js';

// exitWhenFlushed, not process.exit: a piped stdout would lose its queued findings.
main(process.argv.slice(2)).then((code) => exitWhenFlushed(code), (err) => {
  console.error(`mimamori: ${err && err.code ? `${err.code} ` : ''}${err && err.message}`);
  exitWhenFlushed(1);
});
