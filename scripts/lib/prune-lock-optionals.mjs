// npm ci refuses a lockfile in which a package lists an optional dependency
// that has no entry of its own ("Missing: X from lock file"). That happens
// here because the registry this project installs from serves only the Linux
// builds of platform packages (e.g. @biomejs/cli-darwin-*), so `npm install`
// cannot record the others. Dropping those never-installable optional edges
// is exactly what npm would do on this platform; nothing else is touched.
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
  console.log(`setup: dropped ${pruned} optional dependencies this registry cannot serve from ${file}`);
}
