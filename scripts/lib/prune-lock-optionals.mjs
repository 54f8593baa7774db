// npm ci refuses a lockfile in which a package lists an optional dependency
// that has no entry of its own ("Missing: X from lock file"). A lockfile
// written where only some platforms' builds of platform-specific packages
// could be fetched (e.g. @biomejs/cli-linux-* but not @biomejs/cli-darwin-*)
// has such dangling edges. wirescope runs only on Linux (x64, arm64), where
// the other platforms' builds are never installed, so dropping exactly those
// edges is what npm would do here; nothing else is touched, and a complete
// lockfile is left as it is.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
let pruned = 0;
for (const [path, pkg] of Object.entries(lock.packages ?? {})) {
  if (!pkg.optionalDependencies) continue;
  for (const dep of Object.keys(pkg.optionalDependencies)) {
    // Resolution as npm does it: nested node_modules first, then hoisted.
    const nested = `${path ? `${path}/` : ''}node_modules/${dep}`;
    if (!lock.packages[nested] && !lock.packages[`node_modules/${dep}`]) {
      delete pkg.optionalDependencies[dep];
      pruned++;
    }
  }
}
if (pruned > 0) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`setup: dropped ${pruned} optional dependencies that have no entry of their own from ${file}`);
}
