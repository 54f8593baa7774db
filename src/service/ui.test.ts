import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ensureDockerImage, sh, TEST_IMAGE, trySh } from '../engines/testing/image.js';
import { Fixtures, nsIno, token, waitForSleep } from '../namespaces/testing/fixtures.js';
import { ip, netnsDelete } from '../testing/ip.js';
import { type RunningService, startService } from './server.js';
import { type Browser, boxOf, launchBrowser, openUi, screenshotOf } from './testing/browser.js';
import { buildTopology, type Topology } from './testing/topology.js';

// Screenshots land in the git-ignored screenshots/ folder of the package.
const SHOTS = resolve(import.meta.dirname, '../../screenshots');

describe('web UI in headless Chromium on a real topology', () => {
  let topo: Topology;
  let svc: RunningService;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  let containerId = '';
  const cname = () => `${topo.prefix}web`;
  // A chrooted workload with a UTS namespace of its own, and a process that only has a network namespace.
  const fx = new Fixtures();
  let chrooted = 0;
  let plain = 0;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    topo = buildTopology();
    // A macvlan in a and a vxlan in b, both on the host's bridge: parent and underlay wires across namespaces.
    ip('link', 'add', 'link', topo.bridge, 'name', `${topo.prefix}mv`, 'type', 'macvlan', 'mode', 'bridge');
    ip('link', 'set', `${topo.prefix}mv`, 'netns', `${topo.prefix}a`);
    // Made in the host namespace, where another vxlan with the same VNI and port may exist (the
    // kernel refuses a second one: vxlan_vni_in_use): a random VNI, not a well-known one.
    const vni = String(1000 + Math.floor(Math.random() * 16_000_000));
    ip('link', 'add', `${topo.prefix}vx`, 'type', 'vxlan', 'id', vni, 'dev', topo.bridge, 'dstport', '4789');
    ip('link', 'set', `${topo.prefix}vx`, 'netns', `${topo.prefix}b`);
    // A Docker container on its own network, in a compose project, with a non-default capability.
    ensureDockerImage();
    sh('docker', ['network', 'create', `${topo.prefix}net`]);
    containerId = sh('docker', [
      'run', '-d', '--name', cname(), '--network', `${topo.prefix}net`,
      '--label', `com.docker.compose.project=${topo.prefix}proj`, '--label', 'com.docker.compose.service=web',
      '--cap-add', 'NET_ADMIN', '-p', '127.0.0.1::8080', TEST_IMAGE, 'httpd', '-f', '-p', '8080',
    ]); // biome-ignore format: argument list
    const root = fx.busyboxRoot({ hostname: `${topo.prefix}etc\n` });
    const t = token();
    fx.start([
      'unshare', '--net', '--uts', '--fork', 'chroot', root,
      '/bin/sh', '-c', `hostname ${topo.prefix}box && exec sleep ${t}`,
    ]); // biome-ignore format: argument list
    const t2 = token();
    fx.start(['unshare', '--net', 'sleep', t2]);
    [chrooted = 0] = await waitForSleep(t);
    [plain = 0] = await waitForSleep(t2);
    svc = await startService({ listen: { host: '127.0.0.1', port: 0 } });
    // Only this test's namespaces (plus the host hub): other tests' namespaces may exist on the host.
    ({ browser, page } = await openUi(`${svc.url}/#/wiring?q=${topo.prefix}`, errors));
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    trySh('docker', ['rm', '-f', cname()]);
    trySh('docker', ['network', 'rm', `${topo.prefix}net`]);
    fx.cleanup();
    topo?.destroy();
  });

  const card = (ino: number) => page.locator(`.card[data-ino="${ino}"]`);

  /** The first bytes of a capture the pcapng link starts, ended after a second. */
  const pcapngHead = async (href: string): Promise<number[]> => {
    const url = new URL(href);
    assert.equal(url.searchParams.get('seconds'), '10', 'the link captures for a default time');
    url.searchParams.set('seconds', '1');
    const res = await fetch(url);
    if (res.status !== 200) assert.fail(`${res.status}: ${await res.text()}`);
    assert.equal(res.headers.get('content-type'), 'application/x-pcapng');
    return [...new Uint8Array(await res.arrayBuffer()).subarray(0, 4)];
  };
  /** Opens a capture panel (it stays open across navigations, as the user left it). */
  const openCapture = async (panel: ReturnType<Page['locator']>): Promise<void> => {
    await panel.locator('summary').waitFor();
    if ((await panel.getAttribute('open')) === null) await panel.locator('summary').click();
    await panel.locator('.cap-filter').waitFor();
  };
  /** pcapng's Section Header Block type (0x0A0D0D0A): the first bytes of every pcapng stream. */
  const SHB = [0x0a, 0x0d, 0x0d, 0x0a];

  it('shows the host as hub, a card per test namespace and the bridge as a segment with both namespaces', async () => {
    await card(topo.ns.a!).waitFor();
    // Placed by the layout under the service's Content-Security-Policy (no inline styles): apart.
    const boxA = await boxOf(card(topo.ns.a!));
    const boxB = await boxOf(card(topo.ns.b!));
    assert.ok(boxA.x !== boxB.x || boxA.y !== boxB.y, 'cards a and b are placed apart');
    assert.ok(boxA.height > 42, 'a card is taller than its head');
    assert.deepEqual(errors, [], 'no script errors or policy violations in the page');
    assert.equal(await card(topo.ns.a!).locator('.title').textContent(), `${topo.prefix}a`);
    assert.equal(await card(topo.ns.b!).locator('.title').textContent(), `${topo.prefix}b`);
    assert.equal(await page.locator('.card.hub.kind-host').count(), 1);
    const seg = page.locator('.section-head', { hasText: topo.bridge });
    await seg.waitFor();
    assert.match((await seg.locator('.seg-count').textContent()) ?? '', /^2 namespaces$/);
    // Host side: the bridge with its two ports listed under it.
    const host = page.locator('.card.hub.kind-host');
    for (const n of [topo.bridge, `${topo.prefix}va`, `${topo.prefix}vb`])
      assert.equal(await host.locator('.row .name', { hasText: new RegExp(`^${n}$`) }).count(), 1, n);
    // Leaf rows: eth0 with its address, eth1 (the a–b veth).
    const a = card(topo.ns.a!);
    assert.match(
      (await a.locator('.row', { hasText: 'eth0' }).locator('.addr').textContent()) ?? '',
      new RegExp(`^${topo.net.replace(/\./g, '\\.')}\\.2/24`),
    );
    assert.equal(await a.locator('.row .name', { hasText: 'eth1' }).count(), 1);
    await page.screenshot({ path: `${SHOTS}/wiring.png` });
  });

  it('names the host under the title: name, OS, kernel, CPUs, and the Docker engine with its version', async () => {
    const out = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    const pretty = out('bash', '-c', '. /etc/os-release; echo "$PRETTY_NAME"');
    const facts = page.locator('#hostinfo .host-facts');
    await facts.waitFor();
    assert.equal(
      await facts.textContent(),
      `${out('hostname')} · ${pretty} · kernel ${out('uname', '-r')} · ${out('nproc')} CPUs`,
    );
    const version = sh('docker', ['version', '--format', '{{.Server.Version}}']);
    const docker = page.locator('#hostinfo .engine', { hasText: `docker ${version}` });
    assert.ok(
      (await docker.count()) >= 1,
      `docker ${version} in ${await page.locator('#hostinfo').textContent()}`,
    );
    assert.match((await docker.first().getAttribute('title')) ?? '', /pid \d+, API \S*docker\.sock/);
  });

  it('draws wires: a stub from each eth0 to the bridge bus, a trunk from the bridge, and the a–b veth', async () => {
    const keyOf = async (ino: number, name: string) =>
      page
        .locator(`.card[data-ino="${ino}"] .row`, {
          has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }),
        })
        .getAttribute('data-key');
    const a0 = (await keyOf(topo.ns.a!, 'eth0'))!;
    const a1 = (await keyOf(topo.ns.a!, 'eth1'))!;
    const b1 = (await keyOf(topo.ns.b!, 'eth1'))!;
    const hits = await page
      .locator('svg.wires path.hit')
      .evaluateAll((ps: { getAttribute(n: string): string | null }[]) =>
        ps.map((p) => p.getAttribute('data-keys') ?? ''),
      );
    assert.ok(
      hits.some((k) => k.split(' ').includes(a0)),
      'stub of a/eth0',
    );
    assert.ok(
      hits.some((k) => k.split(' ').includes(a1) && k.split(' ').includes(b1)),
      'wire a/eth1 — b/eth1',
    );
    const bridgeKey = await page
      .locator('.card.hub .row', { has: page.locator('.name', { hasText: new RegExp(`^${topo.bridge}$`) }) })
      .getAttribute('data-key');
    assert.ok(
      hits.some((k) => k === bridgeKey),
      'trunk from the bridge',
    );
  });

  it('highlights a selected interface end to end: the peer in the host, the bridge, the wires', async () => {
    await card(topo.ns.a!).locator('.row', { hasText: 'eth0' }).click();
    const host = page.locator('.card.hub.kind-host');
    await host.locator('.row.sel', { hasText: `${topo.prefix}va` }).waitFor();
    assert.equal(
      await host.locator('.row.sel .name', { hasText: new RegExp(`^${topo.bridge}$`) }).count(),
      1,
    );
    assert.ok((await page.locator('svg.wires path.w.sel').count()) >= 2, 'stub and trunk highlighted');
    assert.equal(await card(topo.ns.b!).locator('.row.sel').count(), 0, 'b is not part of a/eth0');
    assert.match(page.url(), new RegExp(`#/wiring/${topo.ns.a}/\\d+`), 'the selection is a deep link');
    assert.match((await page.locator('#selection').textContent()) ?? '', new RegExp(`${topo.prefix}va`));
    await page.screenshot({ path: `${SHOTS}/wiring-selected.png` });
  });

  it('shows details of a namespace: interfaces with addresses, MTU and state, routes', async () => {
    await page.goto(`${svc.url}/#/netns/${topo.ns.a}`);
    const ifs = page.locator('#sec-interfaces table');
    await ifs.waitFor();
    const eth1 = ifs.locator('tr', { has: page.locator('a.ifname', { hasText: /^eth1$/ }) });
    assert.equal(await eth1.locator('td').nth(3).textContent(), '1400');
    assert.equal(await eth1.locator('td').nth(2).textContent(), 'up');
    assert.match((await eth1.locator('td').nth(7).textContent()) ?? '', new RegExp(`eth1 @ ${topo.prefix}b`));
    const eth0 = ifs.locator('tr', { has: page.locator('a.ifname', { hasText: /^eth0$/ }) });
    assert.match(
      (await eth0.locator('td').nth(5).textContent()) ?? '',
      new RegExp(`${topo.net.replace(/\./g, '\\.')}\\.2/24`),
    );
    const def = page.locator('#sec-routes tr', { hasText: '0.0.0.0/0' });
    assert.match((await def.textContent()) ?? '', new RegExp(`${topo.net.replace(/\./g, '\\.')}\\.1`));
    assert.match(
      (await page.locator('.details-head').textContent()) ?? '',
      new RegExp(`bind-mounted at /run/netns/${topo.prefix}a`),
    );
    await page.screenshot({ path: `${SHOTS}/details.png`, fullPage: true });
  });

  it('offers a capture of a namespace: packetflix link, pcapng link and command lines, all following the filter', async () => {
    await page.goto(`${svc.url}/#/netns/${topo.ns.a}`);
    const panel = page.locator('#sec-capture details.capture');
    await openCapture(panel);
    await panel.locator('.cap-filter').fill('icmp or tcp port 80');
    const ino = String(topo.ns.a);
    const href = async (cls: string) => (await panel.locator(`a.${cls}`).getAttribute('href')) ?? '';
    // Edgeshark's plugin: packetflix:ws://HOST:PORT/capture?container=<a /mobyshark entry>&nif=…&filter=…
    const pf = await href('cap-packetflix');
    assert.ok(pf.startsWith(`packetflix:${svc.url.replace(/^http:/, 'ws:')}/capture?`), pf);
    const pfu = new URL(pf.slice('packetflix:'.length));
    const entry = JSON.parse(pfu.searchParams.get('container') ?? '{}') as { netns?: number };
    assert.equal(entry.netns, topo.ns.a);
    assert.equal(pfu.searchParams.get('filter'), 'icmp or tcp port 80');
    // All of a's interfaces that are up (or unknown, as lo): the macvlan stays down, which dumpcap refuses.
    assert.deepEqual(pfu.searchParams.get('nif')?.split('/').sort(), ['eth0', 'eth1', 'lo']);
    const pcap = await href('cap-pcapng');
    assert.equal(
      pcap,
      `${svc.url}/api/capture.pcapng?targets=${ino}&filter=icmp%20or%20tcp%20port%2080&seconds=10`,
    );
    assert.equal(
      await panel.locator('.cap-cli').textContent(),
      `wirescope capture ${ino} -f 'icmp or tcp port 80' | wireshark -k -i -`,
    );
    assert.equal(
      await panel.locator('.cap-curl').textContent(),
      `curl -sN '${svc.url}/api/capture.pcapng?targets=${ino}&filter=icmp%20or%20tcp%20port%2080' | wireshark -k -i -`,
    );
    assert.equal(await panel.locator('.cap-token').isVisible(), false, 'no token, no token note');
    // An interface row's capture narrows all of them to that interface.
    const eth1 = page.locator('#sec-interfaces tr', { has: page.locator('a.ifname', { hasText: /^eth1$/ }) });
    await eth1.locator('button.cap-if').click();
    assert.match(await href('cap-pcapng'), new RegExp(`\\?targets=${ino}&nif=eth1&filter=`));
    assert.equal(new URL((await href('cap-packetflix')).slice(11)).searchParams.get('nif'), 'eth1');
    assert.match(
      (await panel.locator('.cap-cli').textContent()) ?? '',
      new RegExp(`^wirescope capture ${ino} -i eth1 -f `),
    );
    await screenshotOf(page.locator('#sec-capture'), `${SHOTS}/capture.png`);
    // The links work: the pcapng link streams a capture, the packetflix URL opens the capture websocket.
    assert.deepEqual(await pcapngHead(await href('cap-pcapng')), SHB);
    const ws = new WebSocket(new URL((await href('cap-packetflix')).slice('packetflix:'.length)).href);
    try {
      const first = await new Promise<Buffer>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data));
        ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
        ws.once('error', reject);
      });
      assert.deepEqual([...first.subarray(0, 4)], SHB, 'the packetflix websocket streams pcapng');
    } finally {
      ws.terminate();
    }
    assert.deepEqual(errors, [], 'no script errors or policy violations in the page');
  });

  it('keeps a capture filter being typed when a change re-renders the details', async () => {
    await page.goto(`${svc.url}/#/netns/${topo.ns.a}`);
    const panel = page.locator('#sec-capture details.capture');
    await openCapture(panel);
    await panel.locator('.cap-filter').fill('');
    await panel.locator('.cap-filter').pressSequentially('icmp');
    ip('-n', `${topo.prefix}a`, 'addr', 'add', '127.0.0.9/8', 'dev', 'lo');
    await page.locator('#sec-interfaces td', { hasText: '127.0.0.9/8' }).waitFor({ timeout: 20_000 });
    // The re-rendered panel has the focus back, caret at the end: typing goes on where it was.
    await panel.locator('.cap-filter:focus').waitFor();
    await page.keyboard.type(' or arp');
    assert.equal(await panel.locator('.cap-filter').inputValue(), 'icmp or arp');
    assert.match((await panel.locator('.cap-cli').textContent()) ?? '', / -f 'icmp or arp' /);
  });

  it('checks a namespace’s neighbourhood from its details, filling the verdicts in as they arrive', async () => {
    await page.goto(`${svc.url}/#/netns/${topo.ns.a}`);
    await page.locator('#sec-check button', { hasText: 'check neighbourhood' }).click();
    await page.locator('#sec-check .check-status', { hasText: /check\(s\):/ }).waitFor({ timeout: 30_000 });
    const b = page.locator('#sec-check tr', { hasText: `${topo.prefix}b` });
    assert.equal(await b.locator('td').nth(1).textContent(), `${topo.net}.3`);
    // The host's bridge may filter (br_netfilter under Docker's FORWARD policy): the verdict is
    // the one ping(8) in a gives, whichever it is.
    let pings = true;
    try {
      execFileSync(
        'ip',
        ['netns', 'exec', `${topo.prefix}a`, 'ping', '-c', '2', '-W', '1', `${topo.net}.3`],
        {
          stdio: 'ignore',
        },
      );
    } catch {
      pings = false;
    }
    assert.equal(await b.locator('td').nth(2).textContent(), pings ? 'verified' : 'unreachable');
    assert.match((await b.locator('td').nth(3).textContent()) ?? '', /^icmp/);
    await page.screenshot({ path: `${SHOTS}/check.png`, fullPage: true });
    // Back on the wiring view (same page: the check's marks live in it), the verdict sits on
    // the neighbour's card, in words, and the start's card says it is the start.
    await page.evaluate(`location.hash = ${JSON.stringify(`#/wiring?q=${topo.prefix}`)}`);
    await card(topo.ns.b!)
      .locator('.cbadge', { hasText: pings ? 'reached' : 'unreachable' })
      .waitFor({ timeout: 10_000 });
    assert.match((await card(topo.ns.b!).locator('.cbadge').getAttribute('title')) ?? '', /^\S+b \S+: /);
    assert.equal(await card(topo.ns.a!).locator('.cbadge').textContent(), 'check start');
    await page.screenshot({ path: `${SHOTS}/check-wiring.png`, fullPage: true });
  });

  it('shows a Docker container as a card titled by its name, engine and compose project, on its network', async () => {
    await page.goto(`${svc.url}/#/wiring?q=${topo.prefix}`);
    const c = page.locator('.card', { has: page.locator('.title', { hasText: new RegExp(`^${cname()}$`) }) });
    await c.waitFor({ timeout: 20_000 });
    const sub = (await c.locator('.sub').textContent()) ?? '';
    assert.match(sub, /docker/);
    assert.match(sub, new RegExp(`· project ${topo.prefix}proj`));
    assert.match(
      (await c.locator('.row', { hasText: 'eth0' }).locator('.addr').textContent()) ?? '',
      /^\d+\.\d+\.\d+\.\d+\/\d+/,
    );
    const seg = page.locator('.section-head', { hasText: `network "${topo.prefix}net"` });
    assert.match((await seg.locator('.seg-count').textContent()) ?? '', /^1 namespace$/);
    await page.screenshot({ path: `${SHOTS}/wiring-container.png` });
  });

  it("titles a chrooted workload's namespace after the workload, with its own hostname", async () => {
    await page.goto(`${svc.url}/#/wiring?q=${topo.prefix}`);
    const c = card(nsIno(chrooted, 'net'));
    await c.waitFor({ timeout: 20_000 });
    // Not after unshare, its launcher, which stays in the host's root.
    assert.equal(await c.locator('.title').textContent(), 'sleep');
    assert.equal(await c.locator('.sub').textContent(), `process ${chrooted} · hostname ${topo.prefix}box`);
    await screenshotOf(c, `${SHOTS}/wiring-chroot.png`);
    // A namespace whose process shares the host's UTS namespace shows no hostname.
    await page.goto(`${svc.url}/#/wiring?q=${plain}`);
    const p = card(nsIno(plain, 'net'));
    await p.waitFor({ timeout: 20_000 });
    assert.equal(await p.locator('.sub').textContent(), `process ${plain}`);
  });

  it('shows container details: command, PID, capabilities with the non-default ones highlighted, labels, port owners', async () => {
    await page.goto(`${svc.url}/#/container/${containerId}`);
    await page.locator('.details-head', { hasText: cname() }).waitFor();
    assert.equal(await page.locator('.cap.cap-extra', { hasText: /^NET_ADMIN$/ }).count(), 1);
    assert.equal(
      await page.locator('.cap.cap-extra', { hasText: /^CHOWN$/ }).count(),
      0,
      'default caps are not highlighted',
    );
    assert.equal(await page.locator('.cap', { hasText: /^CHOWN$/ }).count(), 1);
    assert.match((await page.locator('.details').textContent()) ?? '', /httpd -f -p 8080/);
    assert.match(
      (await page.locator('.labels').textContent()) ?? '',
      new RegExp(`com.docker.compose.project=${topo.prefix}proj`),
    );
    await page.click('.kv a[href^="#/netns/"]');
    const port = page.locator('#sec-ports tr', { hasText: '8080' }).first();
    await port.waitFor();
    assert.match((await port.textContent()) ?? '', /httpd/);
    await page.screenshot({ path: `${SHOTS}/details-container.png`, fullPage: true });
  });

  it('offers a capture of a container by its name, quoted for the shell', async () => {
    await page.goto(`${svc.url}/#/container/${containerId}`);
    const panel = page.locator('#sec-capture details.capture');
    await openCapture(panel);
    await panel.locator('.cap-filter').fill('tcp port 8080');
    assert.equal(
      await panel.locator('.cap-cli').textContent(),
      `wirescope capture ${cname()} -f 'tcp port 8080' | wireshark -k -i -`,
    );
    const pcap = (await panel.locator('a.cap-pcapng').getAttribute('href')) ?? '';
    assert.equal(new URL(pcap).searchParams.get('targets'), cname());
    // The packetflix link carries the service's own /mobyshark entry for the container, once fetched.
    const mobyshark = (await (await fetch(`${svc.url}/mobyshark`)).json()) as {
      containers: { name: string; netns: number }[];
    };
    const want = mobyshark.containers.find((t) => t.name === cname());
    assert.ok(want, 'the container is a /mobyshark target');
    // encodeURIComponent leaves no quote or backslash in the attribute selector's value.
    await panel.locator(`a.cap-packetflix[href*="${encodeURIComponent(JSON.stringify(want))}"]`).waitFor();
    const pf = new URL(((await panel.locator('a.cap-packetflix').getAttribute('href')) ?? '').slice(11));
    assert.deepEqual(JSON.parse(pf.searchParams.get('container') ?? '{}'), want);
    assert.deepEqual(await pcapngHead(pcap), SHB);
  });

  it('shows a namespace created while the page is open, marked as new', async () => {
    await page.goto(`${svc.url}/#/wiring?q=${topo.prefix}`);
    await card(topo.ns.a!).waitFor();
    const ino = topo.addLeaf('c', 4);
    await page.locator(`.card[data-ino="${ino}"].chg-added`).waitFor({ timeout: 20_000 });
    assert.equal(await card(ino).locator('.title').textContent(), `${topo.prefix}c`);
    assert.equal(await page.locator(`#nslist li.chg-added[data-ino="${ino}"]`).count(), 1);
    // The change log follows the search: our namespace by name, or inside a burst line when other
    // tools created many namespaces in the same moment.
    assert.match(
      (await page.locator('#changes').textContent()) ?? '',
      new RegExp(`\\+ (${topo.prefix}c|\\d+ namespaces)`),
    );
    // The namespace may show before its veth is on the bridge (addLeaf's steps can land in two
    // discoveries): wait for the bridge's count to take it in.
    const seg = page.locator('.section-head', { hasText: topo.bridge });
    await seg
      .locator('.seg-count', { hasText: /^3 namespaces$/ })
      .waitFor({ timeout: 20_000 })
      .catch(async () => {
        throw new Error(
          `timed out waiting for the bridge's section to count 3 namespaces; it says ${await seg.locator('.seg-count').textContent()}`,
        );
      });
    await page.screenshot({ path: `${SHOTS}/live.png` });
  });

  it('keeps each namespace of a burst findable by the search, with its own entry', async () => {
    // Seven namespaces in one moment (one `ip -batch`): the log says them in one burst line, and a
    // search for one of them shows that namespace's own entry in its place.
    const names = Array.from({ length: 7 }, (_, i) => `${topo.prefix}burst${i}`);
    try {
      await page.goto(`${svc.url}/#/wiring?q=${topo.prefix}burst3`);
      execFileSync('ip', ['-batch', '-'], { input: names.map((n) => `netns add ${n}\n`).join('') });
      await page
        .locator('#changes li', { hasText: new RegExp(` \\+ ${topo.prefix}burst3$`) })
        .waitFor({ timeout: 20_000 });
      assert.equal(
        await page.locator('#changes li', { hasText: /\d+ namespaces \(/ }).count(),
        0,
        'a search shows members, not the burst line',
      );
      // Back to the view the next tests start from.
      await page.goto(`${svc.url}/#/wiring?q=${topo.prefix}`);
      await card(topo.ns.a!).waitFor();
    } finally {
      for (const n of names) netnsDelete(n);
    }
  });

  it('captures a selected wire, both of its ends in their two namespaces at once', async () => {
    await page.goto(`${svc.url}/#/wiring?q=${topo.prefix}`);
    await card(topo.ns.a!)
      .locator('.row', { has: page.locator('.name', { hasText: /^eth1$/ }) })
      .click();
    const panel = page.locator('#selection details.capture');
    await openCapture(panel);
    await panel.locator('.cap-filter').fill('icmp');
    const [a, b] = [String(topo.ns.a), String(topo.ns.b)];
    const url = new URL((await panel.locator('a.cap-pcapng').getAttribute('href')) ?? '');
    assert.deepEqual(url.searchParams.getAll('targets'), [a, b]);
    assert.equal(url.searchParams.get('nif'), 'eth1');
    assert.equal(
      await panel.locator('.cap-cli').textContent(),
      `wirescope capture ${a} ${b} -i eth1 -f icmp | wireshark -k -i -`,
    );
    // Edgeshark's plugin takes one target: no packetflix link for two namespaces.
    assert.equal(await panel.locator('a.cap-packetflix').count(), 0);
    assert.equal(await panel.locator('.cap-nopf').isVisible(), true);
    await screenshotOf(page.locator('#selection'), `${SHOTS}/capture-selection.png`);
    assert.deepEqual(await pcapngHead(url.href), SHB);
  });

  it('searches by IP address, switches to the dark theme and exports the diagram as SVG', async () => {
    await page.fill('#search', `${topo.net}.3`);
    // A locator, not waitForFunction('…'): that evaluates a string, which the UI's CSP (no 'unsafe-eval') refuses.
    await card(topo.ns.a!).waitFor({ state: 'detached' });
    assert.equal(await card(topo.ns.b!).count(), 1);
    await page.fill('#search', topo.prefix);
    await card(topo.ns.a!).waitFor();
    await page.click('#theme');
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    await page.screenshot({ path: `${SHOTS}/wiring-dark.png` });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const svg = readFileSync(path, 'utf8');
    assert.match(svg, /^<svg /);
    assert.ok(svg.includes(`${topo.prefix}a`) && svg.includes(topo.bridge));
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
    const head = readFileSync(await png.path()).subarray(0, 8);
    assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
    const [data] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const exported = JSON.parse(readFileSync(await data.path(), 'utf8')) as {
      networks: Record<string, unknown>;
    };
    assert.ok(exported.networks[String(topo.ns.a)], 'the JSON export is the native discovery');
    assert.deepEqual(errors, [], 'no script errors in the page');
  });
});

describe('web UI capture panel of a service with a bearer token', () => {
  it('says the links cannot carry the token, and the curl line sends it from $WIRESCOPE_TOKEN', async () => {
    const secret = randomBytes(18).toString('base64url');
    const svc = await startService({ listen: { host: '127.0.0.1', port: 0 }, engines: false, token: secret });
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // The UI asks for the token with prompt() on its first 401.
      page.on('dialog', (d) => void d.accept(secret));
      const host = nsIno(process.pid, 'net');
      await page.goto(`${svc.url}/#/netns/${host}`);
      await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
      const panel = page.locator('#sec-capture details.capture');
      await panel.locator('summary').click();
      // The host may hold more interfaces than one capture opens: narrowed to lo, which it always has.
      await page
        .locator('#sec-interfaces tr', { has: page.locator('a.ifname', { hasText: /^lo$/ }) })
        .locator('button.cap-if')
        .click();
      assert.equal(await panel.locator('.cap-token').isVisible(), true);
      assert.match(
        (await panel.locator('.cap-token').textContent()) ?? '',
        /bearer token.*\$WIRESCOPE_TOKEN/s,
      );
      const curl = (await panel.locator('.cap-curl').textContent()) ?? '';
      assert.ok(curl.startsWith('curl -sN -H "Authorization: Bearer $WIRESCOPE_TOKEN" \''), curl);
      assert.ok(
        !curl.includes(secret) && !(await page.content()).includes(secret),
        'the token is in no line or link',
      );
      // As the note says: the link alone is refused, with the header it streams.
      const link = new URL((await panel.locator('a.cap-pcapng').getAttribute('href')) ?? '');
      assert.equal(link.searchParams.get('nif'), 'lo');
      link.searchParams.set('seconds', '1');
      assert.equal((await fetch(link)).status, 401);
      const res = await fetch(link, { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(res.status, 200);
      assert.deepEqual([...new Uint8Array(await res.arrayBuffer()).subarray(0, 4)], [0x0a, 0x0d, 0x0d, 0x0a]);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await svc.close();
    }
  });
});

describe('web UI following changes by patches (no Docker needed)', () => {
  it('shows a namespace created while the page is open without fetching the whole document again', async () => {
    const topo = buildTopology();
    const svc = await startService({ listen: { host: '127.0.0.1', port: 0 }, engines: false });
    const errors: string[] = [];
    let browser: Browser | undefined;
    try {
      let page: Page;
      ({ browser, page } = await openUi(`${svc.url}/#/wiring?q=${topo.prefix}`, errors));
      await page.locator(`.card[data-ino="${topo.ns.a}"]`).waitFor({ timeout: 30_000 });
      const body = page.locator('body');
      const count = async (what: string) => Number((await body.getAttribute(`data-${what}`)) ?? 0);
      const [patchedBefore, refetchedBefore] = [await count('patched'), await count('refetched')];
      let fetched = 0;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/discovery') fetched++;
      });
      const ino = topo.addLeaf('c', 4);
      await page.locator(`.card[data-ino="${ino}"].chg-added`).waitFor({ timeout: 30_000 });
      const patched = (await count('patched')) - patchedBefore;
      const refetched = (await count('refetched')) - refetchedBefore;
      // An event may come without a usable patch (missed on a reconnect, or too large when another test
      // made hundreds of namespaces at once): then, and only then, the page fetches the document.
      assert.ok(patched >= 1, `the change was patched in (${patched} patched, ${refetched} refetched)`);
      assert.equal(fetched, refetched, 'the document was fetched only for events without a usable patch');
      assert.equal(await page.locator(`.card[data-ino="${ino}"] .title`).textContent(), `${topo.prefix}c`);
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
      await svc.close();
      topo.destroy();
    }
  });
});
