import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { readPcapng } from '../capture/read.js';
import { buildLan, countByInterface, type Lan, tshark } from '../capture/testing/fixtures.js';
import { eventually } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { parseCaptureQuery } from './capture.js';
import { closeReason } from './capture-ws.js';
import { type RunningService, startService } from './server.js';

const LOOP = { host: '127.0.0.1', port: 0 };

/** Pings from `ns` to `addr` every 0.1 s until the returned function is called. */
function pinging(ns: string, addr: string): () => void {
  const p = execFile('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-i', '0.1', addr]);
  return () => p.kill();
}

function promiscuity(ns: string): number {
  const j = JSON.parse(ip('-n', ns, '-d', '-j', 'link', 'show', 'dev', 'eth0')) as {
    promiscuity: number;
  }[];
  return j[0]?.promiscuity ?? -1;
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: Buffer }> {
  const r = await fetch(url, { headers });
  return {
    status: r.status,
    type: r.headers.get('content-type') ?? '',
    body: Buffer.from(await r.arrayBuffer()),
  };
}

interface WsResult {
  bytes: Buffer;
  code: number;
  reason: string;
  binary: boolean;
}

/**
 * A Packetflix client: opens the capture websocket and collects its binary
 * messages until the server closes, or until `enough` says so (then the
 * client closes, as Wireshark's extcap does when the user stops).
 */
function wsCapture(
  url: string,
  headers: Record<string, string> = {},
  enough?: (bytes: Buffer) => boolean,
): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const parts: Buffer[] = [];
    let binary = true;
    ws.on('message', (data, isBinary) => {
      binary &&= isBinary;
      parts.push(Buffer.from(data as Buffer));
      if (enough?.(Buffer.concat(parts))) ws.close(1000, 'enough');
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('close', (code, reason) =>
      resolve({ bytes: Buffer.concat(parts), code, reason: reason.toString(), binary }),
    );
  });
}

const packetsIn = (b: Buffer): number => {
  try {
    return readPcapng(b).packets.length;
  } catch {
    return 0;
  }
};

describe('capture query parameters', () => {
  const q = (params: string) => {
    const u = new URLSearchParams(params);
    return parseCaptureQuery((name) => u.getAll(name));
  };
  it('takes targets repeated or as a JSON list, Packetflix nif lists, limits and chaste', () => {
    assert.deepEqual(q('targets=a&targets=["b","c/d"]&nif=eth0/eth1&nif=lo&packets=5&seconds=1.5&chaste'), {
      targets: ['a', 'b', 'c/d'],
      interfaces: ['eth0', 'eth1', 'lo'],
      seconds: 1.5,
      packets: 5,
      chaste: true,
    });
    assert.equal(q('targets=a&chaste=false').chaste, false);
    assert.equal(q('targets=a').chaste, false);
  });
  it('refuses what is malformed or unbounded', () => {
    for (const bad of [
      '',
      'targets=[1]',
      'targets=[',
      'targets=a&packets=1.5',
      'targets=a&packets=0',
      'targets=a&seconds=-1',
      'targets=a&seconds=100000',
      `targets=${'x'.repeat(300)}`,
      `targets=a&filter=${'x'.repeat(5000)}`,
      `targets=${JSON.stringify(Array.from({ length: 65 }, (_, i) => `t${i}`))}`,
    ])
      assert.throws(() => q(bad), /targets|packets|seconds|filter|characters|at most/, bad);
  });
});

describe('capture service on the real kernel', () => {
  let lan: Lan;
  let a: string;
  let b: string;
  let svc: RunningService;
  before(async () => {
    lan = buildLan();
    a = lan.add('a', 2);
    b = lan.add('b', 3);
    svc = await startService({ listen: LOOP, engines: false, captures: { maxPerClient: 1 } });
  });
  after(async () => {
    await svc?.close();
    lan?.destroy();
  });

  const health = async () =>
    ((await (await fetch(`${svc.url}/healthz`)).json()) as { captures: { open: number; refused: number } })
      .captures;

  it('streams a capture of two namespaces as pcapng over plain HTTP, as tshark reads it', async () => {
    const stop = pinging(a, `${lan.net}.3`);
    try {
      const r = await get(
        `${svc.url}/api/capture.pcapng?targets=${a}&targets=${b}&nif=eth0&filter=icmp&packets=10&fresh=1`,
      );
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.type, 'application/x-pcapng');
      const f = readPcapng(r.body);
      assert.equal(f.packets.length, 10);
      // a is named by its tenant (the ping, once it runs), b by its bind mount, as discover names them.
      const names = f.interfaces.map((i) => i.name ?? '');
      assert.equal(names.length, 2);
      assert.match(names[0] ?? '', new RegExp(`^\\d+/(busybox\\(\\d+\\)|${a}):eth0$`));
      assert.match(names[1] ?? '', new RegExp(`^\\d+/${b}:eth0$`));
      const counts = countByInterface(tshark(r.body, ['icmp.type'], 'icmp'));
      assert.equal(
        Object.values(counts).reduce((x, y) => x + y, 0),
        10,
      );
      assert.equal(f.stats.length, 2);
    } finally {
      stop();
    }
  });

  it('takes a JSON list of targets, a time limit and chaste', async () => {
    const r = await get(
      `${svc.url}/api/capture.pcapng?targets=${encodeURIComponent(JSON.stringify([a]))}&seconds=0.5&chaste`,
    );
    assert.equal(r.status, 200, r.body.toString());
    const f = readPcapng(r.body);
    assert.match(f.sections[0]?.comment ?? '', /promiscuous: false/);
    assert.deepEqual(
      f.interfaces.map((i) => i.name?.split(':').pop()),
      ['lo', 'eth0'],
    );
  });

  it('answers problems for unknown targets, bad filters and bad limits, before opening anything', async () => {
    for (const [query, status, re] of [
      [`targets=${lan.prefix}nosuch`, 404, /no network namespace matches/],
      [`targets=${a}&nif=nosuch0`, 404, /no interface "nosuch0"/],
      [`targets=${a}&filter=tcp%20port`, 400, /capture filter "tcp port"/],
      [`targets=${a}&packets=x`, 400, /packets=/],
      ['', 400, /capture target/],
    ] as const) {
      const r = await get(`${svc.url}/api/capture.pcapng?${query}`);
      assert.equal(r.status, status, query);
      assert.equal(r.type, 'application/problem+json');
      assert.match(JSON.parse(r.body.toString()).detail, re);
    }
    assert.equal((await health()).open, 0);
  });

  it('bounds captures per client, and a client that goes away stops its capture', async () => {
    // A capture that would run for a minute: read its first bytes, then hang up.
    const first = await new Promise<{ destroy(): void }>((resolve, reject) => {
      const req = request(`${svc.url}/api/capture.pcapng?targets=${a}&nif=eth0&seconds=60`, (res) => {
        res.once('data', () => resolve({ destroy: () => req.destroy() }));
      });
      req.on('error', reject);
      req.end();
    });
    try {
      assert.equal((await health()).open, 1);
      assert.equal(promiscuity(a), 1);
      const refused = await get(`${svc.url}/api/capture.pcapng?targets=${b}&seconds=1`);
      assert.equal(refused.status, 429);
      assert.match(JSON.parse(refused.body.toString()).detail, /captures running/);
    } finally {
      first.destroy();
    }
    await eventually('the capture to stop after its client left', async () => (await health()).open === 0, {
      timeoutMs: 10_000,
    });
    await eventually('the promiscuous membership to go with the socket', () => promiscuity(a) === 0, {
      timeoutMs: 10_000,
    });
  });

  it('asks for the bearer token like the rest of the API', async () => {
    const guarded = await startService({ listen: LOOP, engines: false, token: 's3cret-token' });
    try {
      const url = `${guarded.url}/api/capture.pcapng?targets=${a}&packets=1`;
      assert.equal((await get(url)).status, 401);
      const stop = pinging(b, `${lan.net}.2`);
      try {
        const r = await get(`${url}&nif=eth0`, { authorization: 'Bearer s3cret-token' });
        assert.equal(r.status, 200);
        assert.equal(readPcapng(r.body).packets.length, 1);
      } finally {
        stop();
      }
    } finally {
      await guarded.close();
    }
  });

  it('speaks Packetflix: /capture?container= with a /mobyshark entry, binary pcapng frames, the client stops', async () => {
    const ino = statSync(`/run/netns/${b}`).ino;
    const targets = (await (await fetch(`${svc.url}/discover/mobyshark?fresh=1`)).json()) as {
      containers: { netns: number; name: string; prefix: string; pid: number; starttime: number }[];
    };
    const entry = targets.containers.find((t) => t.netns === ino);
    assert.ok(entry, 'b is a /mobyshark target');
    const stop = pinging(a, `${lan.net}.3`);
    try {
      const container = encodeURIComponent(JSON.stringify({ ...entry, 'network-interfaces': ['eth0'] }));
      const r = await wsCapture(
        `${svc.url.replace('http', 'ws')}/capture?container=${container}&filter=icmp`,
        {},
        (bytes) => packetsIn(bytes) >= 6,
      );
      assert.ok(r.binary, 'binary frames');
      const f = readPcapng(r.bytes);
      assert.deepEqual(
        f.interfaces.map((i) => i.name),
        [`${ino}/${b}:eth0`],
      );
      assert.ok(tshark(r.bytes, ['icmp.type'], 'icmp').length >= 6);
    } finally {
      stop();
    }
    await eventually('the capture to stop after its client closed', async () => (await health()).open === 0, {
      timeoutMs: 10_000,
    });
  });

  it('takes the parameters as Clustershark headers, finds a stale target again by name, and closes 1000 at the end', async () => {
    const ino = statSync(`/run/netns/${b}`).ino;
    const targets = (await (await fetch(`${svc.url}/mobyshark`)).json()) as {
      containers: { netns: number; name: string; prefix: string }[];
    };
    const entry = targets.containers.find((t) => t.netns === ino);
    assert.ok(entry);
    // A reused inode: the canary process (pid 1) never had this start time, so the name decides.
    const stale = { ...entry, netns: 1, pid: 1, starttime: 1 };
    // From a, so that b stays the process-less namespace its /mobyshark entry names.
    const stop = pinging(a, `${lan.net}.3`);
    try {
      const r = await wsCapture(`${svc.url.replace('http', 'ws')}/capture?packets=3`, {
        'Clustershark-Container': JSON.stringify(stale),
        'Clustershark-Nif': 'eth0',
        'Clustershark-Filter': 'icmp',
        'Clustershark-Chaste': '',
      });
      assert.equal(r.code, 1000);
      assert.equal(r.reason, 'capture ended');
      const f = readPcapng(r.bytes);
      assert.equal(f.packets.length, 3);
      assert.equal(f.interfaces[0]?.name, `${ino}/${b}:eth0`);
      assert.match(f.sections[0]?.comment ?? '', /promiscuous: false/);
      assert.equal(f.stats.length, 1);
    } finally {
      stop();
    }
  });

  it('closes with a reason when the capture cannot be: 4404 no such netns, 4400 bad filter', async () => {
    const base = svc.url.replace('http', 'ws');
    const gone = await wsCapture(`${base}/capture?netns=1`);
    assert.equal(gone.code, 4404);
    assert.match(gone.reason, /no network namespace matches "1"/);
    const ino = statSync(`/run/netns/${a}`).ino;
    const filter = await wsCapture(`${base}/capture?netns=${ino}&filter=${encodeURIComponent('tcp port')}`);
    assert.equal(filter.code, 4400);
    assert.match(filter.reason, /capture filter "tcp port"/);
    assert.equal(closeReason('x'.repeat(200)).length, 123);
    assert.equal(Buffer.byteLength(closeReason('ü'.repeat(100))), 122);
    assert.equal((await health()).open, 0);
  });

  it('answers /version, /discover/* like /*, and refuses plain HTTP on /capture and cross-site upgrades', async () => {
    assert.deepEqual(await (await fetch(`${svc.url}/version`)).json(), {
      name: 'wirescope',
      version: '0.1.0',
    });
    const direct = (await (
      await fetch(`${svc.url}/api/netns/${statSync(`/run/netns/${a}`).ino}`)
    ).json()) as {
      ino: number;
    };
    const viaPrefix = (await (
      await fetch(`${svc.url}/discover/api/netns/${statSync(`/run/netns/${a}`).ino}`)
    ).json()) as { ino: number };
    assert.equal(viaPrefix.ino, direct.ino);
    const plain = await get(`${svc.url}/capture?netns=1`);
    assert.equal(plain.status, 426);
    await assert.rejects(
      wsCapture(`${svc.url.replace('http', 'ws')}/capture?netns=1`, { origin: 'http://evil.example' }),
      /HTTP 403/,
    );
  });

  it('asks websocket clients for the bearer token too', async () => {
    const guarded = await startService({ listen: LOOP, engines: false, token: 's3cret-token' });
    try {
      const url = `${guarded.url.replace('http', 'ws')}/capture?netns=${statSync(`/run/netns/${a}`).ino}&packets=1`;
      await assert.rejects(wsCapture(url), /HTTP 401/);
      const stop = pinging(a, `${lan.net}.3`);
      try {
        const r = await wsCapture(`${url}&nif=eth0`, { authorization: 'Bearer s3cret-token' });
        assert.equal(r.code, 1000);
        assert.equal(readPcapng(r.bytes).packets.length, 1);
      } finally {
        stop();
      }
    } finally {
      await guarded.close();
    }
  });
});
