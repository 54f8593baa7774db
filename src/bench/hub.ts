/**
 * Hub benchmark: 3 agents × 300 network namespaces (--quick: 100). The three
 * agents are `wirescope serve` processes on this host with different
 * --node-name (each sees the same 300 namespaces, so each node's model is a
 * 300-namespace one; cluster.test.ts covers agents that see only their node),
 * and a `wirescope hub` follows them. Measured in the same run, 20 concurrent
 * clients, warm: one agent's /json, the hub's /json?node= (that node's v1
 * document) and its merged /api/discovery (three native models), plain and
 * gzip. Goal (issue 18): the merged view within 2× of one node's warm /json.
 */
import type { ChildProcess } from 'node:child_process';
import { raw } from '../service/testing/http.js';
import { startServe, stopServe } from '../service/testing/serve.js';
import { buildFleet, jsonLatency, pct, settled } from './service.js';
import type { BenchResult, BenchSuite } from './types.js';

const NODES = 3;

async function started(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const s = await startServe(args);
  if (!s.url) throw new Error(`wirescope ${args[0]} exited: ${s.stderr.trim()}`);
  return { url: s.url, proc: s.proc };
}

export const suite: BenchSuite = {
  name: 'hub',
  async run({ quick }): Promise<BenchResult[]> {
    const n = quick ? 100 : 300;
    const fleet = buildFleet(n);
    const procs: ChildProcess[] = [];
    try {
      const agents = [];
      for (let i = 0; i < NODES; i++) {
        const a = await started(['serve', '--listen', '127.0.0.1:0', '--node-name', `bench${i}`]);
        procs.push(a.proc);
        agents.push(a);
      }
      const hub = await started([
        'hub',
        '--listen',
        '127.0.0.1:0',
        ...agents.flatMap((a) => ['--agent', a.url]),
      ]);
      procs.push(hub.proc);
      const agent = agents[0] as { url: string };
      // Every node fresh and holding its model, the agents settled, then the hub.
      for (let i = 0; i < 240; i++) {
        // A busy host's first discoveries take a while: a refused or cut request is another try.
        const nodes = await raw(hub.url, '/api/nodes').then(
          (r) => JSON.parse(r.body) as { nodes: { state: string; counts: { networks: number } }[] },
          () => ({ nodes: [] }),
        );
        if (
          nodes.nodes.length === NODES &&
          nodes.nodes.every((x) => x.state === 'fresh' && x.counts.networks >= n)
        )
          break;
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const a of agents) await settled(a.url, '/json', 20);
      await settled(hub.url, '/api/discovery', 20);
      const per = quick ? 10 : 25;
      const measure = async (url: string, path: string, gzip: boolean) => {
        try {
          await jsonLatency({ url }, 20, 2, gzip, path); // sockets and memoised renderings warm
          return pct(await jsonLatency({ url }, 20, per, gzip, path), 50);
        } catch (err) {
          throw new Error(`${url}${path}${gzip ? ' (gzip)' : ''}: ${(err as Error).message}`);
        }
      };
      const bytes = async (url: string, path: string) => (await raw(url, path)).body.length / 1024;
      const results: BenchResult[] = [];
      for (const gzip of [false, true]) {
        const one = await measure(agent.url, '/json', gzip);
        const v1 = await measure(hub.url, '/json?node=bench0', gzip);
        const merged = await measure(hub.url, '/api/discovery', gzip);
        const hubGeneration = (await raw(hub.url, '/api/discovery')).headers['x-wirescope-generation'];
        const worst = Math.max(v1, merged) / one;
        results.push({
          name: `hub of ${NODES} agents × ${n} netns, 20 concurrent clients, warm${gzip ? ', gzip' : ''}`,
          figures: {
            'agent /json p50 ms': one,
            'hub /json?node= p50 ms': v1,
            'hub /api/discovery p50 ms': merged,
            'hub /json?node= / agent /json': v1 / one,
            'hub /api/discovery / agent /json': merged / one,
            'agent /json KiB': await bytes(agent.url, '/json'),
            'hub /api/discovery KiB': await bytes(hub.url, '/api/discovery'),
            'hub generation': String(hubGeneration),
          },
          goal: { text: 'merged view within 2× of one node’s warm /json', met: worst <= 2 },
        });
      }
      return results;
    } finally {
      for (const p of procs.reverse()) await stopServe(p);
      fleet.destroy();
    }
  },
};
