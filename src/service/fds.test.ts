import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FD_SHARE } from '../kernel/rlimit.js';
import { NetFixtures, netnsIno } from '../network/testing/fixtures.js';
import { ipBatch } from '../testing/ip.js';
import { type Served, startServe, stopServe } from './testing/serve.js';

/** Network namespaces of this host now: every process's and every bind mount's (an upper bound is enough). */
function hostNetnsCount(): number {
  const seen = new Set<number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      seen.add(statSync(`/proc/${pid}/ns/net`).ino);
    } catch {
      // gone, or not ours to read
    }
  }
  return seen.size + readdirSync('/run/netns').length;
}

describe('serve under a tight fd limit', () => {
  const fx = new NetFixtures();
  const OWN = 150;
  let names: string[] = [];
  let served: Served | undefined;

  before(() => {
    names = Array.from({ length: OWN }, (_, i) => `${fx.prefix}-f${i}`);
    for (const n of names) fx.registerNetns(n);
    ipBatch(names.map((n) => `netns add ${n}`));
  });
  after(async () => {
    if (served) await stopServe(served.proc);
    fx.cleanup();
  });

  it('keeps its caches within their shares: more namespaces than they hold are all discovered, no EMFILE', async () => {
    // A limit the uncached fds fit in (a watcher socket per namespace and ~100 of its own) only when the
    // caches stay in their shares; the caches alone would fill it with every namespace cached.
    const spare = 1 - FD_SHARE.network - FD_SHARE.forwardedPorts;
    const limit = Math.max(1024, Math.ceil((hostNetnsCount() + OWN + 150) / (spare - 0.05)));
    served = await startServe(['serve', '--listen', '127.0.0.1:0'], {}, limit);
    assert.ok(served.url, `serve did not start: ${served.stderr}`);
    for (let round = 0; round < 3; round++) {
      const r = await fetch(`${served.url}/api/discovery?fresh=1`);
      const text = await r.text();
      assert.equal(r.status, 200, `round ${round}: ${text.slice(0, 500)}`);
      const d = JSON.parse(text) as {
        networks: Record<string, { interfaces: { name: string }[] }>;
        warnings: { code: string; message: string }[];
      };
      const emfile = d.warnings.filter((w) => /EMFILE|too many open files/i.test(w.message));
      assert.deepEqual(emfile, [], `round ${round}`);
      for (const n of names) {
        const net = d.networks[String(netnsIno(n))];
        assert.ok(net, `round ${round}: ${n} discovered`);
        assert.ok(
          net.interfaces.some((i) => i.name === 'lo'),
          `round ${round}: ${n}'s lo read`,
        );
      }
    }
    // A module first used now (the v1 view) still loads: the process has fds to spare.
    assert.equal((await fetch(`${served.url}/json`)).status, 200);
  });
});
