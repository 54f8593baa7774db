// Removes the dev-only packages from node_modules, as `npm prune --omit=dev`
// would, without npm (the image's base has node only). package-lock.json v3
// marks a package "dev": true when only devDependencies reach it, and
// "devOptional" packages are kept, as npm keeps them (an optional path needs them); optional production
// packages (koffi's binaries) carry neither and are kept.
// Usage: node prune-dev.mjs package-lock.json node_modules
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const [lockPath, modules] = process.argv.slice(2);
if (!lockPath || !modules) {
  console.error('prune-dev: usage: prune-dev.mjs package-lock.json node_modules');
  process.exit(2);
}
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
if (lock.lockfileVersion < 2 || !lock.packages) {
  console.error(`prune-dev: ${lockPath}: lockfileVersion ${lock.lockfileVersion} has no "packages" map`);
  process.exit(1);
}
const root = resolve(dirname(resolve(modules)));
let removed = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!path.startsWith('node_modules/') || !entry.dev) continue;
  const target = resolve(root, path);
  // Lock paths are node_modules/<name>[/node_modules/<name>]...; refuse anything else.
  if (!target.startsWith(`${join(root, 'node_modules')}/`)) {
    console.error(`prune-dev: ${path}: outside node_modules; refused`);
    process.exit(1);
  }
  rmSync(target, { recursive: true, force: true });
  removed++;
}
rmSync(join(root, 'node_modules', '.bin'), { recursive: true, force: true });
console.log(`prune-dev: removed ${removed} dev-only packages`);
