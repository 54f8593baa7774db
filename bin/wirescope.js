#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm install` through the prepare script).
import('../dist/cli/main.js').catch((err) => {
  console.error(`wirescope: cannot start: ${err?.message ?? err} (did "npm install" build dist/?)`);
  process.exit(2);
});
