#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ by `npm run build` (run by `npm install`
// through the prepare script): a few files instead of hundreds of modules (ARCHITECTURE.md "Start-up cost").
import('../dist/bundle/cli.js').catch((err) => {
  console.error(`wirescope: cannot start: ${err?.message ?? err} (did "npm install" build dist/?)`);
  process.exit(2);
});
