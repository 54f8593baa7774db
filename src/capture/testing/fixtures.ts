/**
 * Helpers of the capture tests: capture specs for named test namespaces,
 * traffic made inside them (busybox ping, a TCP exchange by a node child),
 * a collecting sink, and Debian's tshark as the independent reader.
 */
import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ip, netnsDelete } from '../../testing/ip.js';
import { uniquePrefix } from '../../testing/names.js';
import {
  type CaptureHandle,
  type CaptureOptions,
  type CaptureSink,
  type CaptureSummary,
  startCapture,
} from '../session.js';
import type { ResolvedTargets } from '../targets.js';
import type { CaptureInterfaceSpec } from '../types.js';

const run = promisify(execFile);

/**
 * Test namespaces on a bridge that lives in a namespace of its own,
 * `<prefix>sw`: the host's bridges pass through br_netfilter and Docker's
 * FORWARD policy (DROP), a fresh namespace's firewall is empty.
 *
 *   netns <p>sw: bridge br0, ports p<name> ─ veth ─ netns <p><name>: eth0 10.<x>.<y>.<host>/24
 */
export interface Lan {
  prefix: string;
  /** 10.<x>.<y> */
  net: string;
  /** Namespace name of the switch. */
  sw: string;
  /** Adds netns <p><name> with eth0 at .<host>; returns the namespace's name. */
  add(name: string, host: number): string;
  destroy(): void;
}

export function buildLan(prefix = uniquePrefix('wsc', 5)): Lan {
  const net = `10.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
  const sw = `${prefix}sw`;
  const names: string[] = [];
  const lan: Lan = {
    prefix,
    net,
    sw,
    add(name, host) {
      const ns = `${prefix}${name}`;
      ip('netns', 'add', ns);
      names.push(ns);
      ip('-n', sw, 'link', 'add', `p${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', sw, 'link', 'set', `p${name}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${net}.${host}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      return ns;
    },
    destroy() {
      for (const n of [...names.reverse(), sw]) netnsDelete(n);
    },
  };
  try {
    ip('netns', 'add', sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
  } catch (e) {
    lan.destroy();
    throw e;
  }
  return lan;
}

/** The capture spec of `ifname` in the named namespace /run/netns/`ns`, labelled as targets.ts labels. */
export function specOf(ns: string, ifname: string): CaptureInterfaceSpec {
  const netns = statSync(`/run/netns/${ns}`).ino;
  const link = JSON.parse(
    execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', ifname], { encoding: 'utf8' }),
  ) as {
    ifindex: number;
  }[];
  const ifindex = link[0]?.ifindex;
  if (ifindex === undefined) throw new Error(`no ${ifname} in ${ns}`);
  return {
    refs: [`/run/netns/${ns}`],
    netns,
    ifindex,
    ifname,
    label: `${netns}/${ns}:${ifname}`,
    description: `${ifname} in ${ns}`,
  };
}

export function targetsOf(specs: CaptureInterfaceSpec[]): ResolvedTargets {
  const byNs = new Map<number, ResolvedTargets['namespaces'][number]>();
  for (const s of specs) {
    const name = s.label.slice(s.label.indexOf('/') + 1, s.label.lastIndexOf(':'));
    const e = byNs.get(s.netns) ?? { netns: s.netns, name, refs: s.refs, containers: [], interfaces: [] };
    e.interfaces.push(s.ifname);
    byNs.set(s.netns, e);
  }
  return { interfaces: specs, namespaces: [...byNs.values()] };
}

/**
 * Runs a capture around `during`: started, awaited until its sockets are
 * open, stopped after `during` (also when it throws, so no capture outlives
 * its test).
 */
export async function captureDuring(
  targets: ResolvedTargets,
  options: CaptureOptions,
  during: (h: CaptureHandle) => Promise<void>,
  sink: BufferSink = bufferSink(),
): Promise<{ summary: CaptureSummary; bytes: Buffer }> {
  const h = startCapture(targets, sink, options);
  try {
    await h.ready;
    await during(h);
  } finally {
    h.stop();
  }
  const summary = await h.done;
  return { summary, bytes: sink.bytes() };
}

export interface BufferSink extends CaptureSink {
  bytes(): Buffer;
}

export function bufferSink(backlog = 0): BufferSink {
  const chunks: Buffer[] = [];
  return {
    write: (b) => chunks.push(Buffer.from(b)),
    backlog: () => backlog,
    bytes: () => Buffer.concat(chunks),
  };
}

/** `count` pings from namespace `ns` to `addr`, 0.1 s apart. */
export async function ping(ns: string, addr: string, count: number): Promise<void> {
  await run('ip', [
    'netns',
    'exec',
    ns,
    'busybox',
    'ping',
    '-c',
    String(count),
    '-i',
    '0.1',
    '-W',
    '2',
    addr,
  ]);
}

/**
 * A TCP exchange: a server in `serverNs` echoes one message sent by a client
 * in `clientNs`, both node children (no tool needed inside the namespaces).
 */
export async function tcpExchange(
  serverNs: string,
  clientNs: string,
  addr: string,
  port: number,
): Promise<void> {
  const server = execFile('ip', [
    'netns',
    'exec',
    serverNs,
    process.execPath,
    '-e',
    `const s=require('net').createServer(c=>c.on('data',d=>c.end(d)));s.listen(${port},()=>console.log('up'));setTimeout(()=>process.exit(3),10000)`,
  ]);
  try {
    await new Promise<void>((res, rej) => {
      server.stdout?.on('data', () => res());
      server.on('exit', (code) => rej(new Error(`tcp server ended early (${code})`)));
    });
    await run('ip', [
      'netns',
      'exec',
      clientNs,
      process.execPath,
      '-e',
      `const c=require('net').connect(${port},'${addr}',()=>c.write('hello wirescope'));c.on('data',()=>c.end());c.on('error',e=>{console.error(e.message);process.exit(1)})`,
    ]);
  } finally {
    server.kill();
  }
}

export interface TsharkRow {
  iface: string;
  fields: string[];
}

/**
 * Reads a pcapng with tshark: one row per packet, the interface name first,
 * then `fields`. tshark fails on a stream it cannot read: that fails the test.
 */
export function tshark(pcapng: Buffer, fields: string[], filter?: string): TsharkRow[] {
  const file = join(tmpdir(), `${uniquePrefix('wirescope-capture-', 10)}.pcapng`);
  writeFileSync(file, pcapng);
  try {
    const args = ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name'];
    for (const f of fields) args.push('-e', f);
    if (filter) args.push('-Y', filter);
    const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [iface = '', ...rest] = l.split('|');
        return { iface, fields: rest };
      });
  } finally {
    rmSync(file, { force: true });
  }
}

/** tshark's count of packets per interface name. */
export function countByInterface(rows: TsharkRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.iface] = (out[r.iface] ?? 0) + 1;
  return out;
}

const KOFFI = createRequire(import.meta.url).resolve('koffi');

/**
 * A tun device `name` in namespace `ns` with a process holding it open (a
 * node child: open /dev/net/tun, TUNSETIFF with IFF_TUN | IFF_NO_PI), so its
 * carrier is up and what is routed into it is sent — a device without a
 * link-layer header, which packet sockets read as SOCK_DGRAM. Kill the
 * returned child to remove the device.
 */
export async function tunWithReader(ns: string, name: string): Promise<ChildProcess> {
  const script = `
const koffi=require(${JSON.stringify(KOFFI)});const libc=koffi.load('libc.so.6');
const open=libc.func('int open(const char *, int)');const ioctl=libc.func('int ioctl(int, unsigned long, _Inout_ uint8_t *)');
const fd=open('/dev/net/tun',2);const ifr=Buffer.alloc(40);ifr.write(${JSON.stringify(name)});ifr.writeUInt16LE(0x1001,16);
if(fd<0||ioctl(fd,0x400454ca,ifr)<0){console.error('tun failed');process.exit(1)}
console.log('up');setInterval(()=>{},1e6);
`;
  const child = execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script]);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', () => resolve());
    child.on('exit', (code) => reject(new Error(`tun holder ended (${code})`)));
  });
  return child;
}
