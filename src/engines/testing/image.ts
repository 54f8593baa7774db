/**
 * Test images without a registry: a rootfs made of busybox-static (every
 * applet a relative symlink to /bin/busybox), imported into each engine with
 * its own CLI (`docker import`, `podman import`, `ctr images import` of a
 * `docker save` archive, since ctr only imports image archives).
 * Test fixtures may use CLIs; the discovery path never does.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const TEST_IMAGE = 'wirescope-test/busybox:latest';
/** The test image as podman names it after `podman import` (podman qualifies local names with localhost/). */
export const PODMAN_TEST_IMAGE = `localhost/${TEST_IMAGE}`;

/** Engine binaries and flags the tests use (see scripts/daemons/*.sh). */
export const CONTAINERD_SOCKET = '/run/wirescope-containerd/containerd.sock';
export const PODMAN_SOCKET = '/run/podman/podman.sock';
export const DOCKER_SOCKET = '/var/run/docker.sock';
/**
 * Same containers.conf as scripts/daemons/podman.sh writes (cgroupfs, file
 * events, ulimits within the host's limits), so the service sees CLI-made containers.
 */
export const PODMAN_CONF = '/run/wirescope-podman/containers.conf';
export const PODMAN_ENV = { ...process.env, CONTAINERS_CONF: PODMAN_CONF };

/** Writes the podman config when a podman service started elsewhere left none. */
function ensurePodmanConf(): void {
  if (existsSync(PODMAN_CONF)) return;
  mkdirSync(dirname(PODMAN_CONF), { recursive: true });
  writeFileSync(
    PODMAN_CONF,
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' +
      '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
  );
}

export function sh(cmd: string, args: readonly string[], input?: string | Buffer): string {
  if (cmd === 'podman') ensurePodmanConf();
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input,
    env: cmd === 'podman' ? PODMAN_ENV : process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

export function trySh(cmd: string, args: readonly string[]): string | undefined {
  try {
    return sh(cmd, args);
  } catch {
    return undefined;
  }
}

/** Builds the busybox rootfs tarball; returns its path (caller removes `dir`). */
export function buildRootfsTar(): { tar: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wst-rootfs-'));
  const root = join(dir, 'root');
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'etc',
    'proc',
    'sys',
    'dev',
    'tmp',
    'run',
    'var/run',
  ]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = sh('/bin/busybox', ['--list'])
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  // A pause process for pod infra containers (podman's --infra-command takes no arguments).
  writeFileSync(join(root, 'pause'), '#!/bin/sh\nexec sleep 2147483647\n', { mode: 0o755 });
  const tar = join(dir, 'rootfs.tar');
  sh('tar', ['-C', root, '-cf', tar, '.']);
  return { tar, dir };
}

function withRootfs<T>(fn: (tar: string) => T): T {
  const { tar, dir } = buildRootfsTar();
  try {
    return fn(tar);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function ensureDockerImage(ref = TEST_IMAGE): string {
  if (trySh('docker', ['image', 'inspect', ref]) === undefined) {
    withRootfs((tar) => sh('docker', ['import', '--change', 'CMD ["/bin/sh"]', tar, ref]));
  }
  return ref;
}

export function ensurePodmanImage(ref = TEST_IMAGE): string {
  if (trySh('podman', ['image', 'exists', ref]) === undefined) {
    withRootfs((tar) => sh('podman', ['import', '--change', 'CMD ["/bin/sh"]', tar, ref]));
  }
  return ref;
}

/** Imports the test image into a containerd namespace (via `docker save`). */
export function ensureContainerdImage(
  address = CONTAINERD_SOCKET,
  namespace = 'default',
  ref = TEST_IMAGE,
): string {
  const full = `docker.io/${ref}`;
  const have = trySh('ctr', ['--address', address, '-n', namespace, 'images', 'ls', '-q']) ?? '';
  if (!have.split('\n').includes(full)) {
    ensureDockerImage(ref);
    const dir = mkdtempSync(join(tmpdir(), 'wst-img-'));
    try {
      const archive = join(dir, 'image.tar');
      sh('docker', ['save', '-o', archive, ref]);
      sh('ctr', ['--address', address, '-n', namespace, 'images', 'import', archive]);
      sh('ctr', ['--address', address, '-n', namespace, 'images', 'ls', '-q']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return full;
}

export const PAUSE_IMAGE = 'wirescope-test/pause:latest';

/** A pause image (CMD /pause) in a containerd namespace, as a CRI sandbox image. */
export function ensurePauseImage(address: string, namespace = 'k8s.io'): string {
  const full = `docker.io/${PAUSE_IMAGE}`;
  const have = trySh('ctr', ['--address', address, '-n', namespace, 'images', 'ls', '-q']) ?? '';
  if (have.split('\n').includes(full)) return full;
  if (trySh('docker', ['image', 'inspect', PAUSE_IMAGE]) === undefined) {
    withRootfs((tar) => sh('docker', ['import', '--change', 'CMD ["/pause"]', tar, PAUSE_IMAGE]));
  }
  const dir = mkdtempSync(join(tmpdir(), 'wst-img-'));
  try {
    const archive = join(dir, 'image.tar');
    sh('docker', ['save', '-o', archive, PAUSE_IMAGE]);
    sh('ctr', ['--address', address, '-n', namespace, 'images', 'import', archive]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return full;
}
