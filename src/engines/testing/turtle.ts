/**
 * An engine inside a container: a Docker container from the busybox image
 * with the host's /usr, /lib, /lib64, /bin and /sbin bind-mounted read-only,
 * running containerd with its own state (tmpfs) as its initial process, in
 * its own mount, PID and network namespaces. Not --privileged: this
 * machine's root lacks CAP_SYS_RESOURCE, so "all capabilities" cannot be
 * granted; every other capability and unconfined /proc and /sys do.
 */
import { ensureContainerdImage, ensureDockerImage, sh } from './image.js';

/**
 * `docker run` options for a container that runs an engine: every capability
 * but CAP_SYS_RESOURCE, no seccomp/AppArmor confinement, the host's cgroup
 * tree, and the host's binaries and libraries read-only.
 */
const ENGINE_HOST_ARGS = [
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
];

/** Starts `cmd` as the initial process of a Docker container with ENGINE_HOST_ARGS and a tmpfs at each of `tmpfs`. */
function runEngineHost(name: string, image: string, tmpfs: readonly string[], cmd: readonly string[]): void {
  sh('docker', [
    'run',
    '-d',
    '--name',
    name,
    ...ENGINE_HOST_ARGS,
    ...tmpfs.flatMap((t) => ['--tmpfs', t]),
    image,
    ...cmd,
  ]);
}

export function startTurtle(name: string): void {
  const image = ensureDockerImage();
  runEngineHost(name, image, ['/var/lib/containerd', '/run'], ['containerd']);
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

/**
 * A containerd inside a container of the turtle's containerd (two levels of
 * turtles), with the host's binaries bind-mounted and CAP_SYS_ADMIN so it can
 * unpack images; `deep` is a container created (not started) in it.
 */
export function startInnerEngine(turtle: string, inner: string, deep: string): void {
  const ro = (p: string) => ['--mount', `type=bind,src=${p},dst=${p},options=rbind:ro`];
  const tmpfs = (p: string) => ['--mount', `type=tmpfs,src=tmpfs,dst=${p},options=nosuid`];
  const image = `docker.io/${ensureDockerImage()}`;
  sh('docker', [
    'exec',
    turtle,
    'ctr',
    'run',
    '-d',
    '--cap-add',
    'CAP_SYS_ADMIN',
    ...ro('/usr'),
    ...ro('/lib'),
    ...ro('/lib64'),
    ...tmpfs('/run'),
    ...tmpfs('/var/lib/containerd'),
    image,
    inner,
    '/usr/bin/containerd',
  ]);
  const exec = (id: string, ...args: string[]) =>
    `docker exec -i ${turtle} ctr task exec --exec-id ${id} ${inner} /usr/bin/ctr ${args.join(' ')}`;
  sh('bash', [
    '-c',
    `until ${exec('wait', 'version')} >/dev/null 2>&1; do sleep 0.1; done; ` +
      `docker save ${ensureDockerImage()} | ${exec('import', 'images', 'import', '-')} >/dev/null && ` +
      `${exec('create', 'container', 'create', image, deep, 'sleep', '100000')}`,
  ]);
}

/**
 * Docker in Docker: dockerd (with its own managed containerd) as the initial
 * process of a Docker container, without iptables or a default bridge (its
 * containers use --network none), its state on an exec-able tmpfs; `inner`
 * is a running container of that inner dockerd.
 */
export function startDockerInDocker(name: string, inner: string): void {
  const image = ensureDockerImage();
  runEngineHost(
    name,
    image,
    ['/var/lib/docker:exec', '/run', '/etc/docker'],
    ['dockerd', '--iptables=false', '--ip6tables=false', '--bridge=none'],
  );
  sh('bash', [
    '-c',
    `until docker exec ${name} docker version >/dev/null 2>&1; do sleep 0.2; done; ` +
      `docker save ${image} | docker exec -i ${name} docker load >/dev/null && ` +
      `docker exec ${name} docker run -d --name ${inner} --network none ${image} sleep 100000`,
  ]);
}
