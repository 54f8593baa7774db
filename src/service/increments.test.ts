import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPatch, PatchError } from '../model/patch.js';
import type { Discovery } from '../model/types.js';
import { eventually } from '../testing/eventually.js';
import { ip, netnsAdd, netnsDelete } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import type { ChangeEvent } from './contract.js';
import { startService } from './server.js';
import { openEvents } from './testing/sse.js';

/** /api/discovery and the generation it is of. */
async function fetchDocument(base: string): Promise<{ doc: Discovery; generation: number; bytes: number }> {
  const res = await fetch(`${base}/api/discovery`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return {
    doc: JSON.parse(text) as Discovery,
    generation: Number(res.headers.get('x-wirescope-generation')),
    bytes: text.length,
  };
}

describe('change events carry the patch to the next document (real service, real kernel)', () => {
  it('a copy patched event by event equals /api/discovery of the same generation', async () => {
    const p = uniquePrefix('inc', 5);
    const [a, b] = [`${p}a`, `${p}b`];
    const svc = await startService({ listen: { host: '127.0.0.1', port: 0 }, engines: false });
    const stream = await openEvents(svc.url);
    try {
      await stream.hello();
      // The client: its copy and the generation of it, as the web UI keeps them (web/src/increment.ts).
      let { doc, generation, bytes } = await fetchDocument(svc.url);
      let seen = 0;
      let patched = 0;
      let refetched = 0;
      let compared = 0;
      const patchBytes: number[] = [];
      const follow = async (): Promise<void> => {
        const events = stream.changes<ChangeEvent>();
        for (const ev of events.slice(seen)) {
          seen++;
          if (ev.patch) patchBytes.push(JSON.stringify(ev.patch).length);
          if (ev.generation <= generation) continue;
          if (ev.patch && ev.base === generation) {
            try {
              doc = applyPatch(doc, ev.patch);
              generation = ev.generation;
              patched++;
              continue;
            } catch (err) {
              if (!(err instanceof PatchError)) throw err;
            }
          }
          // Missed, left out (too large: another test's hundreds of namespaces), or started before the copy.
          ({ doc, generation, bytes } = await fetchDocument(svc.url));
          refetched++;
        }
      };
      /** Compares the copy with the document the service serves, when it is of the copy's generation. */
      const compare = async (): Promise<boolean> => {
        await follow();
        const now = await fetchDocument(svc.url);
        if (now.generation !== generation) return false;
        assert.deepEqual(doc, now.doc, `the patched copy of generation ${generation} equals /api/discovery`);
        compared++;
        return true;
      };
      /** Waits for the change a step made to reach the copy (by events, whatever else changes meanwhile). */
      const step = async (what: string, reached: (d: Discovery) => boolean): Promise<void> => {
        await eventually(
          what,
          async () => {
            await follow();
            return reached(doc);
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        await compare();
      };
      try {
        const inoA = netnsAdd(a);
        const inoB = netnsAdd(b);
        await step(
          'both namespaces',
          (d) => d.networks[inoA] !== undefined && d.networks[inoB] !== undefined,
        );
        ip('link', 'add', `${p}x`, 'netns', a, 'type', 'veth', 'peer', 'name', `${p}y`, 'netns', b);
        const has = (d: Discovery, ino: number, name: string) =>
          d.networks[ino]?.interfaces.some((i) => i.name === name) ?? false;
        await step('the veth pair', (d) => has(d, inoA, `${p}x`) && has(d, inoB, `${p}y`));
        ip('-n', a, 'link', 'set', `${p}x`, 'up');
        ip('-n', a, 'address', 'add', '10.231.7.1/24', 'dev', `${p}x`);
        await step('the address', (d) =>
          (d.networks[inoA]?.interfaces.find((i) => i.name === `${p}x`)?.addresses ?? []).some(
            (x) => x.address === '10.231.7.1',
          ),
        );
        ip('-n', a, 'route', 'add', '10.232.0.0/16', 'via', '10.231.7.2', 'dev', `${p}x`);
        await step('the route', (d) =>
          (d.networks[inoA]?.routes ?? []).some((r) => r.dst.startsWith('10.232.0.0')),
        );
        netnsDelete(b);
        await step('b gone', (d) => d.networks[inoB] === undefined);
      } finally {
        netnsDelete(a);
        netnsDelete(b);
      }
      // Other tests change the host meanwhile: the last word is a copy of the served generation.
      await eventually('a copy of the generation served', compare, { timeoutMs: 60_000, intervalMs: 500 });
      const sorted = [...patchBytes].sort((x, y) => x - y);
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      console.log(
        `${seen} events, ${patched} patched, ${refetched} refetched, ${compared} compared; ` +
          `patch bytes median ${median}, max ${sorted.at(-1) ?? 0}; document ${bytes} bytes`,
      );
      assert.ok(patched >= 3, `${patched} events applied as patches (${refetched} refetched)`);
      assert.ok(compared >= 2, `${compared} comparisons`);
    } finally {
      await stream.close();
      await svc.close();
    }
  });
});
