/**
 * Three nodes on one machine, simulated the way kind does: each node is a
 * Docker container with its own PID, mount and network namespaces, running a
 * wirescope agent that sees only that node (its /proc is the node's PID
 * namespace), with lab namespaces inside it and a VXLAN between two nodes over
 * a Docker network. The hub, fed the agents' URLs, must show each node's own
 * namespaces under it, no namespace twice, the VXLAN as a wire between the
 * nodes (and the one to an address outside as leaving the cluster), and an
 * agent stopped then started as stale then fresh.
 *
 * The node containers are not --privileged. Capabilities added to Docker's
 * default set, and why:
 * - SYS_ADMIN: setns(2) into the lab namespaces to dump their links, routes
 *   and sockets (network stage), and unshare(2) for the test to make them;
 * - NET_ADMIN: the test creates the VXLAN devices (the agent only reads);
 * - SYS_PTRACE: /proc/PID/ns and /proc/PID/fd of the node's processes
 *   (ptrace access mode read, proc(5)).
 * The image is the tests' busybox image (`docker import`, no registry); node
 * and iproute2 come from this host, bind-mounted read-only with the libraries
 * they need, and wirescope from this worktree (dist/, bin/, node_modules).
 */
import assert from 'node:assert/strict';
import { readlinkSync, realpathSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureDockerImage, sh, trySh } from '../engines/testing/image.js';
import { launchBrowser } from '../service/testing/browser.js';
import { eventually } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { createListAgentSource } from './agents/list.js';
import type { HubDocument } from './contract.js';
import { Hub } from './hub.js';
import { type RunningHub, startHub } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const NODE = process.execPath;
const IP = '/usr/bin/ip';
const VNI = 4242;
const LABS_PER_NODE = 2;
const WAIT = { timeoutMs: 120_000, intervalMs: 500 };

/** Read-only mounts that bring node, iproute2 and wirescope into a busybox node. */
function mounts(): string[] {
  const paths = new Map<string, string>([
    ['/usr', '/usr'],
    ['/usr/lib', '/lib'],
    ['/usr/lib64', '/lib64'],
    ['/etc/ld.so.cache', '/etc/ld.so.cache'],
    [ROOT, ROOT],
  ]);
  // node_modules may be a symlink into another checkout: mount where it leads.
  const modules = realpathSync(`${ROOT}/node_modules`);
  paths.set(modules, modules);
  return [...paths].flatMap(([from, to]) => ['-v', `${from}:${to}:ro`]);
}

interface SimNode {
  name: string;
  container: string;
  address: string;
  /** Inodes of the lab namespaces made in it. */
  labs: number[];
  agentPid?: number;
}

const exec = (n: SimNode, ...cmd: string[]) => sh('docker', ['exec', n.container, ...cmd]);
/** Starts `cmd` detached in the node and returns its PID (in the node's PID namespace). */
const spawnIn = (n: SimNode, cmd: string) =>
  Number(exec(n, 'sh', '-c', `setsid ${cmd} >/dev/null 2>&1 & echo $!`));
const netnsOf = (n: SimNode, pid: number) => {
  const link = exec(n, 'readlink', `/proc/${pid}/ns/net`);
  const m = /net:\[(\d+)\]/.exec(link);
  if (!m) throw new Error(`no net namespace for ${pid} in ${n.name}: ${link}`);
  return Number(m[1]);
};

function startAgent(n: SimNode): void {
  n.agentPid = spawnIn(
    n,
    `${NODE} ${ROOT}/bin/wirescope.js serve --listen 0.0.0.0:5000 --node-name ${n.name} --allow-host ${n.address}`,
  );
}

describe('hub over three simulated nodes (containers with their own namespaces, VXLAN between them)', () => {
  const prefix = uniquePrefix('hubc', 5);
  const network = `${prefix}-net`;
  const nodes: SimNode[] = [];
  let hub: RunningHub | undefined;
  let image = '';

  before(() => {
    image = ensureDockerImage();
    sh('docker', ['network', 'create', network]);
    for (let i = 0; i < 3; i++) {
      const name = `${prefix}-n${i}`;
      sh('docker', [
        'run',
        '-d',
        '--name',
        name,
        '--hostname',
        name,
        '--network',
        network,
        '--cap-add',
        'SYS_ADMIN',
        '--cap-add',
        'NET_ADMIN',
        '--cap-add',
        'SYS_PTRACE',
        '--label',
        `wirescope-test=${prefix}`,
        ...mounts(),
        image,
        'sleep',
        '2147483647',
      ]);
      const address = sh('docker', [
        'inspect',
        '-f',
        `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
        name,
      ]);
      nodes.push({ name, container: name, address, labs: [] });
    }
    for (const n of nodes) {
      for (let l = 0; l < LABS_PER_NODE; l++) {
        const pid = spawnIn(n, '/usr/bin/unshare -n sleep 2147483647');
        n.labs.push(
          // unshare execs sleep once the namespace exists: wait for the new one.
          ((): number => {
            const own = netnsOf(n, 1);
            for (let tries = 0; tries < 100; tries++) {
              const ino = netnsOf(n, pid);
              if (ino !== own) return ino;
              sh('sleep', ['0.05']);
            }
            throw new Error(`lab namespace of ${pid} in ${n.name} never appeared`);
          })(),
        );
      }
    }
    const [a, b, c] = nodes as [SimNode, SimNode, SimNode];
    // The overlay: a ⇄ b on VNI 4242, port 4789, over the Docker network; c sends to an address outside.
    const vxlan = (n: SimNode, dev: string, vni: number, remote: string) =>
      exec(
        n,
        IP,
        'link',
        'add',
        dev,
        'type',
        'vxlan',
        'id',
        String(vni),
        'remote',
        remote,
        'dstport',
        '4789',
        'dev',
        'eth0',
      );
    vxlan(a, 'vxa', VNI, b.address);
    vxlan(b, 'vxb', VNI, a.address);
    vxlan(c, 'vxout', 77, '192.0.2.1');
    for (const [n, dev] of [
      [a, 'vxa'],
      [b, 'vxb'],
      [c, 'vxout'],
    ] as const)
      exec(n, IP, 'link', 'set', dev, 'up');
    for (const n of nodes) startAgent(n);
  });

  after(async () => {
    await hub?.close();
    for (const n of nodes) trySh('docker', ['rm', '-f', n.container]);
    trySh('docker', ['network', 'rm', network]);
  });

  const doc = async (): Promise<HubDocument> => {
    const res = await fetch(`${hub?.url}/api/discovery`);
    return (await res.json()) as HubDocument;
  };
  const allLabsSeen = (d: HubDocument) =>
    nodes.every((n) => {
      const entry = d.nodes[n.name];
      return (
        entry?.state === 'fresh' &&
        n.labs.every((ino) => entry.discovery?.networks[String(ino)] !== undefined)
      );
    });

  test('each node’s namespaces under it, none twice, and the VXLAN as a wire between nodes', async () => {
    const source = createListAgentSource(nodes.map((n) => ({ url: `http://${n.address}:5000` })));
    hub = await startHub(new Hub(source, { follow: { backoffMs: { min: 200, max: 2000 } } }), {
      listen: { host: '127.0.0.1', port: 0 },
    });
    const d = await eventually('every node fresh with its lab namespaces', doc, allLabsSeen, {
      ...WAIT,
      show: (x) =>
        Object.values(x.nodes).map((n) => [
          n.name,
          n.state,
          n.error,
          Object.keys(n.discovery?.networks ?? {}),
        ]),
    });
    assert.deepEqual(Object.keys(d.nodes).sort(), nodes.map((n) => n.name).sort());
    // No network namespace twice: one kernel numbers all nodes' namespaces, so an inode under two
    // nodes would be one namespace shown twice. (Namespaces the nodes really share, like kind's
    // nodes share the host's user and time namespaces, are each node's to list: not compared.)
    const owner = new Map<string, string>();
    for (const [name, entry] of Object.entries(d.nodes)) {
      for (const ino of Object.keys(entry.discovery?.networks ?? {})) {
        assert.equal(
          owner.get(ino),
          undefined,
          `network namespace ${ino} under ${owner.get(ino)} and ${name}`,
        );
        owner.set(ino, name);
      }
    }
    // Each node's own network namespace and labs are under it, and the host's are under none.
    for (const n of nodes) {
      const own = netnsOf(n, 1);
      for (const ino of [own, ...n.labs]) assert.equal(owner.get(String(ino)), n.name, `${ino} of ${n.name}`);
    }
    const hostNet = /net:\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? String(process.pid);
    assert.equal(owner.get(hostNet), undefined, 'the test’s own network namespace is no node’s');
    const [a, b, c] = nodes as [SimNode, SimNode, SimNode];
    const linked = d.overlay.filter((w) => w.status === 'linked');
    assert.equal(linked.length, 1, JSON.stringify(d.overlay));
    const ends = [linked[0]?.from, linked[0]?.to].map((r) => `${r?.node}:${r?.name}`).sort();
    assert.deepEqual(ends, [`${a.name}:vxa`, `${b.name}:vxb`]);
    assert.equal(linked[0]?.vni, VNI);
    assert.equal(linked[0]?.port, 4789);
    const out = d.overlay.filter((w) => w.status === 'leaves-cluster');
    assert.deepEqual(
      out.map((w) => [w.from.node, w.from.name, w.remote]),
      [[c.name, 'vxout', '192.0.2.1']],
    );
  });

  test('the web UI shows the nodes as groups and the overlay wire between them', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${hub?.url}/`);
      await page.waitForSelector('body[data-hub-generation]', { timeout: 60_000 });
      const groups = await page.$$eval('.hub-node', (els) => els.map((e) => e.getAttribute('data-node')));
      assert.deepEqual(groups.sort(), nodes.map((n) => n.name).sort());
      // One drawn wire between the groups, one to the outside of the cluster.
      assert.equal(await page.locator('path.hub-wire-linked').count(), 1);
      assert.equal(await page.locator('path.hub-wire-leaves-cluster').count(), 1);
      assert.equal(await page.locator('.hub-outside').count(), 1);
    } finally {
      await browser.close();
    }
  });

  test('an agent stopped is stale with its namespaces kept, then fresh when started again', async () => {
    const n = nodes[1] as SimNode;
    // Killed (SIGKILL), as the issue says; hub.test.ts stops its agents gracefully (SIGTERM).
    exec(n, 'kill', '-KILL', String(n.agentPid));
    const stale = await eventually('the node stale', doc, (d) => d.nodes[n.name]?.state === 'stale', {
      ...WAIT,
      show: (d) => [d.nodes[n.name]?.state, d.nodes[n.name]?.error],
    });
    const entry = stale.nodes[n.name];
    assert.ok(entry?.lastSeen, 'last seen');
    for (const ino of n.labs) assert.ok(entry?.discovery?.networks[String(ino)], `lab ${ino} still shown`);
    // The wire to the stale node stays too: its last model still holds the device.
    assert.equal(stale.overlay.filter((w) => w.status === 'linked').length, 1);
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${hub?.url}/`);
      // The stale node is marked with when it was last seen.
      const state = await page
        .waitForSelector(`.hub-node.hub-stale[data-node="${n.name}"] .hub-state`, { timeout: 60_000 })
        .catch(async (err: Error) => {
          const shown = await page.$$eval('.hub-node', (els) =>
            els.map((e) => `${e.className} ${e.getAttribute('data-node')}`),
          );
          const now = (await doc()).nodes[n.name];
          throw new Error(
            `${err.message.split('\n')[0]}; groups shown: ${JSON.stringify(shown)}; hub says ${now?.state} ${now?.error}; ps: ${exec(n, 'ps', '-o', 'pid,args')}`,
          );
        });
      assert.match((await state.textContent()) ?? '', /^stale, last seen \d\d:\d\d:\d\d UTC/);
      startAgent(n);
      await eventually('the node fresh again', doc, (d) => d.nodes[n.name]?.state === 'fresh', {
        ...WAIT,
        show: (d) => [d.nodes[n.name]?.state, d.nodes[n.name]?.error],
      });
      // The page follows the hub's change events.
      await page.waitForSelector(`.hub-node.hub-fresh[data-node="${n.name}"]`, { timeout: 60_000 });
    } finally {
      await browser.close();
    }
  });
});
