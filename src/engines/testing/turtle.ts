/**
 * An engine inside a container: a Docker container from the busybox image
 * with the host's /usr, /lib, /lib64, /bin and /sbin bind-mounted read-only,
 * running containerd with its own state (tmpfs) as its initial process, in
 * its own mount, PID and network namespaces. Not --privileged: this
 * machine's root lacks CAP_SYS_RESOURCE, so "all capabilities" cannot be
 * granted; every other capability and unconfined /proc and /sys do.
 */
import { ensureContainerdImage, ensureDockerImage, sh } from './image.js';

export function startTurtle(name: string): void {
  const image = ensureDockerImage();
  sh('docker', [
    'run',
    '-d',
    '--name',
    name,
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup',
    ...['/usr', '/lib', '/lib64', '/bin', '/sbin'].flatMap((p) => ['-v', `${p}:${p}:ro`]),
    '--tmpfs',
    '/var/lib/containerd',
    '--tmpfs',
    '/run',
    image,
    'containerd',
  ]);
  const out = sh('bash', [
    '-c',
    `docker save ${image} | docker exec -i ${name} sh -c 'until [ -S /run/containerd/containerd.sock ]; do sleep 0.1; done; ctr images import -'`,
  ]);
  if (!out.includes('done')) throw new Error(`turtle ${name}: image import failed: ${out}`);
}

/** Runs a container in the turtle's containerd. */
export function runInTurtle(turtle: string, name: string, ...cmd: string[]): void {
  sh('docker', ['exec', turtle, 'ctr', 'run', '-d', `docker.io/${ensureDockerImage()}`, name, ...cmd]);
}

export { ensureContainerdImage };
