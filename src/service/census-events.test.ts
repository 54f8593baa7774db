import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeDiscovery, discover } from '../discover.js';
import { eventually } from '../testing/eventually.js';
import { netnsAdd, netnsDelete } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import type { ChangeEvent } from './contract.js';
import { startService } from './server.js';
import { openEvents } from './testing/sse.js';

describe('namespaces that come and go between discoveries, on the real kernel', () => {
  const prefix = uniquePrefix('wsl', 5);
  const names = Array.from({ length: 4 }, (_, i) => `${prefix}${i}`);
  after(() => {
    for (const n of names) netnsDelete(n);
  });

  it('reach /api/events as an add, then a remove, each of them', async () => {
    // Discoveries wait at a gate the test opens: the namespaces are made and removed meanwhile.
    let open: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const svc = await startService({
      listen: { host: '127.0.0.1', port: 0 },
      engines: false,
      run: async () => {
        await gate;
        return discover({});
      },
    });
    const events = await openEvents(svc.url);
    try {
      await events.hello();
      await eventually('the first discovery', () => svc.cache.generation >= 1, {
        timeoutMs: 60_000,
        intervalMs: 50,
      });
      gate = new Promise((r) => {
        open = r;
      });
      const watcher = svc.watcher;
      assert.ok(watcher && 'knows' in watcher, 'an in-process watcher');
      // Concurrently: every namespace is added, seen by the census, then removed.
      const inos = await Promise.all(
        names.map(async (name) => {
          const ino = netnsAdd(name);
          await eventually(`the census to list ${name} (${ino})`, () => watcher.knows(ino), {
            timeoutMs: 20_000,
            intervalMs: 10,
          });
          netnsDelete(name);
          await eventually(`the census to forget ${name} (${ino})`, () => !watcher.knows(ino), {
            timeoutMs: 20_000,
            intervalMs: 10,
          });
          return ino;
        }),
      );
      open();
      for (const ino of inos) {
        await eventually(
          `a census change event adding ${ino}, then a later one removing it`,
          () => {
            const evs = events.changes<ChangeEvent>();
            const a = evs.findIndex((e) => e.census && e.changes.namespaces.added.includes(ino));
            const r = evs.findIndex(
              (e, i) => i > a && e.census && e.changes.namespaces.removed.includes(ino),
            );
            return a >= 0 && r > a ? evs : undefined;
          },
          {
            timeoutMs: 30_000,
            intervalMs: 100,
            show: (evs) => JSON.stringify(evs?.map((e) => e.changes.namespaces)),
          },
        );
      }
      // Told by the census: those events move no document, they carry no patch.
      assert.ok(
        events.changes<ChangeEvent>().some((e) => e.census),
        'census events',
      );
      for (const e of events.changes<ChangeEvent>()) if (e.census) assert.equal(e.patch, undefined);
    } finally {
      open();
      await events.close();
      await svc.close();
      await closeDiscovery();
    }
  });
});
