/** A throw-away containerd for fault tests: own socket, root and state under a temp dir. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../../testing/eventually.js';
import { trySh } from './image.js';

export interface TestContainerd {
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

export interface ContainerdOptions {
  /** Enable the CRI plugin with this sandbox (pause) image, host-network pods only (no CNI). */
  criSandboxImage?: string;
}

export async function startContainerd(dir: string, options: ContainerdOptions = {}): Promise<TestContainerd> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'c.sock');
  const conf = join(dir, 'config.toml');
  writeFileSync(
    conf,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      ...(options.criSandboxImage
        ? [
            '[plugins."io.containerd.grpc.v1.cri"]',
            `  sandbox_image = "${options.criSandboxImage}"`,
            // Pause containers get oom_score_adj -998, which needs CAP_SYS_RESOURCE (this root lacks it).
            '  restrict_oom_score_adj = true',
            '[plugins."io.containerd.grpc.v1.cri".cni]',
            `  conf_dir = "${join(dir, 'cni')}"`,
            '  bin_dir = "/usr/lib/cni"',
          ]
        : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
      `[grpc]\n  address = "${socket}"`,
      `[ttrpc]\n  address = "${socket}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', conf], { stdio: 'ignore', detached: true });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('containerd did not start');
  try {
    await eventually(
      'the test containerd to answer',
      () => trySh('ctr', ['--address', socket, 'version']) !== undefined,
      { timeoutMs: 15000 },
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    socket,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.ref(); // keep the event loop alive until it has exited
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
