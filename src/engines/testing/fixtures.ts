/**
 * Containers the engine tests build with the engines' own CLIs: long-running
 * busybox sleepers and a podman pod. Callers name them with their unique
 * prefix and remove them in `after`.
 */
import { PODMAN_TEST_IMAGE, sh } from './image.js';

/**
 * `<engine> run -d --name NAME FLAGS... IMAGE sleep 100000`: a container whose
 * initial process stays up until the test removes it; returns the engine's output (the id).
 */
export function runSleeper(
  engine: 'docker' | 'podman',
  name: string,
  image: string,
  ...flags: string[]
): string {
  return sh(engine, ['run', '-d', '--name', name, ...flags, image, 'sleep', '100000']);
}

/**
 * A podman pod with an infra container from the test image (its /pause, since
 * podman's default infra image would need a registry) and one sleeper `member`
 * in it; remove with `podman pod rm -f POD`.
 */
export function createPodmanPod(pod: string, member: string): void {
  sh('podman', [
    'pod',
    'create',
    '--name',
    pod,
    '--infra-image',
    PODMAN_TEST_IMAGE,
    '--infra-command',
    '/pause',
  ]);
  runSleeper('podman', member, PODMAN_TEST_IMAGE, '--pod', pod);
}
