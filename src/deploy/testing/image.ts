/**
 * The wirescope image without a registry: the Dockerfile's base
 * (debian:trixie-slim) is made locally by mmdebstrap from Debian's packages
 * and `docker import`ed under that name, once per machine (a base already
 * there, made by us or pulled, is reused); then the real Dockerfile is built,
 * unchanged, from the repository. Test fixtures may use CLIs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BASE_IMAGE = 'debian:trixie-slim';
/** The label of the base made here; every image built on it inherits it. */
const BASE_LABEL = 'org.wirescope.test-base=mmdebstrap';
export const VERSION: string = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;
/** The tag the compose file runs by default (`${WIRESCOPE_IMAGE:-wirescope:VERSION}`). */
export const IMAGE = `wirescope:${VERSION}`;

const run = (cmd: string, args: readonly string[], opts: { cwd?: string; input?: Buffer } = {}): string =>
  execFileSync(cmd, args, {
    encoding: 'utf8',
    cwd: opts.cwd,
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).trim();

const imageExists = (ref: string): boolean =>
  spawnSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' }).status === 0;

const SLIM_EXCLUDES = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
];

/**
 * Makes the base image unless it is there: a minbase trixie with nodejs and
 * ca-certificates (~45 s on a fresh machine), as the Dockerfile expects it.
 */
export function ensureBaseImage(): void {
  if (imageExists(BASE_IMAGE)) return;
  const dir = mkdtempSync(join(tmpdir(), 'wst-base-'));
  try {
    const tar = join(dir, 'rootfs.tar');
    const r = spawnSync(
      'mmdebstrap',
      [
        '--quiet',
        '--variant=minbase',
        '--include=nodejs,ca-certificates',
        // What makes debian:*-slim slim: no documentation, manual pages or translations
        // (dpkg path-exclude, kept in the image for later installs too).
        ...SLIM_EXCLUDES.map((e) => `--dpkgopt=${e}`),
        'trixie',
        tar,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (r.status !== 0)
      throw new Error(`mmdebstrap of ${BASE_IMAGE} failed: ${r.stderr.trim().split('\n').at(-1)}`);
    run('docker', ['import', '--change', `LABEL ${BASE_LABEL}`, tar, BASE_IMAGE]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `docker build` of the repository's Dockerfile, tagged `tag`. The context is
 * streamed as a tar with symlinks followed (-h), because a worktree's
 * node_modules may be a symlink, which a directory context would not follow;
 * the .dockerignore's exclusions are applied the same way.
 */
export function buildImage(tag = IMAGE): void {
  ensureBaseImage();
  const context = execFileSync(
    'tar',
    [
      '-ch',
      '--exclude=./.git',
      '--exclude=./dist',
      '--exclude=./web/dist',
      '--exclude=./screenshots',
      '--exclude=./.bench',
      '--exclude=./node_modules/.cache',
      '--exclude=./node_modules/.vite',
      '--exclude=*.log',
      '--exclude=./deploy/wirescope.token',
      '-f',
      '-',
      '.',
    ],
    { cwd: REPO, maxBuffer: 1024 * 1024 * 1024 },
  );
  const startedAt = new Date().toISOString();
  const r = spawnSync('docker', ['build', '-q', '-t', tag, '-f', 'Dockerfile', '-'], {
    input: context,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`docker build of ${tag} failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  // Each build of changed sources leaves the previous image and its build stage untagged
  // (~600 MB a run); those made from our base before this build are removed. This
  // build's own build stage stays as the next build's cache.
  spawnSync(
    'docker',
    ['image', 'prune', '-f', '--filter', `label=${BASE_LABEL}`, '--filter', `until=${startedAt}`],
    { stdio: 'ignore' },
  );
}

/** Size of an image in bytes, as `docker image inspect` reports it. */
export const imageSize = (ref = IMAGE): number =>
  Number(run('docker', ['image', 'inspect', '-f', '{{.Size}}', ref]));

/** `docker compose` (the plugin) when it is there, else Debian's `docker-compose`. */
export function composeCommand(): { cmd: string; pre: string[] } {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0)
    return { cmd: 'docker', pre: ['compose'] };
  return { cmd: 'docker-compose', pre: [] };
}
