#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ by `npm run build` (run by `npm install`
// through the prepare script): a few files instead of hundreds of modules (ARCHITECTURE.md "Start-up cost").
// CommonJS (bin/package.json), so `--help` and `--version` alone run the CommonJS bundle of the
// top-level program and never start Node's ES module loader; every command runs the ES module CLI.
'use strict';

const args = process.argv.slice(2);
const topLevelOnly =
  args.length > 0 && args.every((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');

const cannotStart = (err) => {
  console.error(`wirescope: cannot start: ${err?.message ?? err} (did "npm install" build dist/?)`);
  process.exit(2);
};

if (topLevelOnly) {
  try {
    require('../dist/bundle/cli-top.cjs');
  } catch (err) {
    cannotStart(err);
  }
} else {
  import('../dist/bundle/cli.js').catch(cannotStart);
}
