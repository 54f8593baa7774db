import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeDiscovery, discover } from '../discover.js';
import { eventually } from '../testing/eventually.js';
import { netnsAdd, netnsDelete } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import type { ChangeEvent } from './contract.js';
import { NamespaceLedger } from './ledger.js';
import { startService } from './server.js';
import { openEvents } from './testing/sse.js';

const none = { added: [], removed: [] };

describe('NamespaceLedger', () => {
  it('tells what the census saw at once, a namespace added and removed between two discoveries too', () => {
    const l = new NamespaceLedger();
    assert.deepEqual(l.report({ added: [7], removed: [] }, 1), { added: [7], removed: [] });
    assert.deepEqual(l.report({ added: [], removed: [7] }, 2), { added: [], removed: [7] });
    // A discovery that started between the two found it: its diff is older than the removal.
    assert.deepEqual(l.settle({ added: [7], removed: [] }, 1), none);
    // Nor does the next one say anything of it.
    assert.deepEqual(l.settle(none, 3), none);
  });

  it('tells a reused inode as a remove, then an add', () => {
    const l = new NamespaceLedger();
    assert.deepEqual(l.report({ added: [], removed: [7] }, 1), { added: [], removed: [7] });
    assert.deepEqual(l.report({ added: [7], removed: [] }, 2), { added: [7], removed: [] });
    assert.deepEqual(l.settle(none, 2), none);
  });

  it('tells from the diff what the census has not told, and nothing twice', () => {
    const l = new NamespaceLedger();
    assert.deepEqual(l.settle({ added: [5], removed: [] }, 2), { added: [5], removed: [] });
    // The census report of it comes later: already told.
    assert.deepEqual(l.report({ added: [5], removed: [] }, 3), none);
    assert.deepEqual(l.settle({ added: [], removed: [5] }, 4), { added: [], removed: [5] });
    assert.deepEqual(l.report({ added: [], removed: [5] }, 5), none);
    // A removal told is forgotten after a while; a namespace never told of is told from the diff.
    assert.deepEqual(l.settle({ added: [1, 2], removed: [3] }, 6, performance.now() + 60_000), {
      added: [1, 2],
      removed: [3],
    });
    assert.equal(l.size, 3, '1, 2 and 3; 5 forgotten');
    l.clear();
    assert.equal(l.size, 0);
  });
});

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
          `a change event adding ${ino}, then a later one removing it`,
          () => {
            const evs = events.changes<ChangeEvent>();
            const a = evs.findIndex((e) => e.changes.namespaces.added.includes(ino));
            const r = evs.findIndex((e, i) => i > a && e.changes.namespaces.removed.includes(ino));
            return a >= 0 && r > a ? evs : undefined;
          },
          {
            timeoutMs: 30_000,
            intervalMs: 100,
            show: (evs) => JSON.stringify(evs?.map((e) => e.changes.namespaces)),
          },
        );
      }
      // The census's events move no document: they carry no patch.
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
