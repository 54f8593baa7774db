/**
 * Lab benchmark: `lab up`, `verify` and `lab down` of a star of N nodes
 * around a bridge (the bridge in its own namespace, each node a namespace
 * with a veth port and an address), next to a shell script doing the same
 * with `ip` commands (`ip netns add`, `ip link add ... netns`, `ip addr add`)
 * in the same run. Goals (issue 6): up < 5 s, down < 3 s, verify < 1 s for
 * 200 nodes. The CLI is timed as a user runs it (process start included).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { labDown } from '../lab/build/down.js';
import { loadLab } from '../lab/file/load.js';
import { closeNetworkDiscovery } from '../network/discover.js';
import { verifyAgainstFresh } from '../service/drift.js';
import { starLab } from './star-lab.js';
import type { BenchResult, BenchSuite } from './types.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function run(
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ code: number; ms: number; out: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    if (input !== undefined) c.stdin?.end(input);
    c.on('close', (code) => resolve({ code: code ?? -1, ms: performance.now() - t0, out }));
  });
}

/** The same star with ip(8): named namespaces instead of holder processes. */
function shellUp(p: string, n: number): string {
  let s = `set -e\nip netns add ${p}hub\nip -n ${p}hub link add sw type bridge\nip -n ${p}hub link set sw up\n`;
  s += `for i in $(seq 0 ${n - 1}); do\n`;
  s += `  ip netns add ${p}n$i\n`;
  s += `  ip -n ${p}hub link add p$i type veth peer name eth0 netns ${p}n$i\n`;
  s += `  ip -n ${p}hub link set p$i master sw up\n`;
  s += `  ip -n ${p}n$i addr add 10.200.$((i >> 8)).$(((i & 255) + 1))/16 dev eth0\n`;
  s += `  ip -n ${p}n$i link set eth0 up\n`;
  return `${s}done\n`;
}
const shellDown = (p: string, n: number): string =>
  `for i in $(seq 0 ${n - 1}); do ip netns del ${p}n$i; done\nip netns del ${p}hub\n`;
/** What a script would read to check the star: links and addresses of every namespace, as JSON. */
const shellDump = (p: string, n: number): string =>
  `for i in $(seq 0 ${n - 1}); do ip -n ${p}n$i -j link show >/dev/null; ip -n ${p}n$i -j addr show >/dev/null; done\nip -n ${p}hub -j link show >/dev/null\n`;

export const suite: BenchSuite = {
  name: 'lab',
  async run({ quick }): Promise<BenchResult[]> {
    const n = quick ? 50 : 200;
    const tag = Math.random().toString(36).slice(2, 6);
    const name = `wsbench${tag}`;
    const shp = `wsb${tag}`;
    const dir = mkdtempSync(join(tmpdir(), 'wst-bench-'));
    const file = join(dir, 'star.yaml');
    writeFileSync(file, stringify(starLab(name, n, 200)));
    const results: BenchResult[] = [];
    try {
      const up = await run(process.execPath, [CLI, 'lab', 'up', file]);
      if (up.code !== 0) throw new Error(`lab up failed: ${up.out.trim().split('\n').pop()}`);
      const again = await run(process.execPath, [CLI, 'lab', 'up', file]);
      const verify = await run(process.execPath, [CLI, 'verify', file]);
      if (verify.code !== 0) throw new Error(`verify not clean: ${verify.out.slice(0, 300)}`);
      const verify2 = await run(process.execPath, [CLI, 'verify', file]);
      // In-process, as the service runs it: the second discovery is warm (cached netlink sockets).
      const lab = loadLab(file);
      await verifyAgainstFresh(lab);
      const tw = performance.now();
      const warm = await verifyAgainstFresh(lab);
      const warmMs = performance.now() - tw;
      if (!warm.clean) throw new Error('in-process verify not clean');
      await closeNetworkDiscovery();
      const down = await run(process.execPath, [CLI, 'lab', 'down', name]);
      if (down.code !== 0) throw new Error(`lab down failed: ${down.out}`);

      const sUp = await run('bash', ['-s'], shellUp(shp, n));
      if (sUp.code !== 0) throw new Error(`ip script failed: ${sUp.out.trim().split('\n').pop()}`);
      const sDump = await run('bash', ['-s'], shellDump(shp, n));
      const sDown = await run('bash', ['-s'], shellDown(shp, n));

      const s = (ms: number) => ms / 1000;
      results.push({
        name: `lab up, star of ${n} nodes`,
        figures: {
          'wirescope s': s(up.ms),
          'ip script s': s(sUp.ms),
          'ratio ip/wirescope': sUp.ms / up.ms,
          'second up (no-op) s': s(again.ms),
        },
        goal: { text: 'up < 5 s for 200 nodes', met: up.ms < 5000 },
      });
      results.push({
        name: `verify, star of ${n} nodes`,
        figures: {
          'wirescope CLI s': s(Math.min(verify.ms, verify2.ms)),
          'in-process, warm s': s(warmMs),
          'ip -j dump of every netns s': s(sDump.ms),
          'ratio ip/wirescope CLI': sDump.ms / Math.min(verify.ms, verify2.ms),
        },
        goal: { text: 'verify < 1 s for 200 nodes', met: Math.min(verify.ms, verify2.ms) < 1000 },
      });
      results.push({
        name: `lab down, star of ${n} nodes`,
        figures: {
          'wirescope s': s(down.ms),
          'ip script s': s(sDown.ms),
          'ratio ip/wirescope': sDown.ms / down.ms,
        },
        goal: { text: 'down < 3 s for 200 nodes', met: down.ms < 3000 },
      });
      return results;
    } finally {
      await labDown(name).catch(() => {});
      await run('bash', [
        '-c',
        `for f in /run/netns/${shp}*; do [ -e "$f" ] && ip netns del "$(basename "$f")"; done; true`,
      ]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
