import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  type CaptureSpec,
  cliLine,
  curlLine,
  type PacketflixTarget,
  packetflixUrl,
  pcapngUrl,
  selectionCapture,
  shellQuote,
} from './capture-links.js';

const HOSTILE = "a'b;$(rm -rf /)";

/** The words a real POSIX shell makes of `line` (each printed NUL-terminated, nothing run). */
function shellWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const target: PacketflixTarget = {
  name: HOSTILE,
  type: 'docker',
  netns: 4026532301,
  'network-interfaces': ['eth0', 'eth1'],
  pid: 4242,
  starttime: 1234,
  prefix: '',
};
const spec = (over: Partial<CaptureSpec> = {}): CaptureSpec => ({
  targets: [HOSTILE],
  interfaces: [],
  filter: '',
  chaste: false,
  ...over,
});

describe('capture links', () => {
  it('quotes a hostile name into one inert shell word', () => {
    assert.equal(shellQuote(HOSTILE), `'a'\\''b;$(rm -rf /)'`);
    assert.deepEqual(shellWords(shellQuote(HOSTILE)), [HOSTILE]);
    assert.deepEqual(shellWords(shellQuote('tcp port 80 and host 10.0.0.1')), [
      'tcp port 80 and host 10.0.0.1',
    ]);
    assert.equal(shellQuote('4026532301'), '4026532301', 'an inode needs no quotes');
    assert.equal(shellQuote(''), "''");
  });

  it('builds the wirescope capture line the shell splits into the intended arguments', () => {
    const line = cliLine(spec({ interfaces: ['eth0'], filter: ' icmp or tcp port 80 ', chaste: true }));
    assert.equal(
      line,
      `wirescope capture 'a'\\''b;$(rm -rf /)' -i eth0 -f 'icmp or tcp port 80' --chaste | wireshark -k -i -`,
    );
    const [cmd] = line.split(' | ');
    assert.deepEqual(shellWords(cmd!), [
      'wirescope',
      'capture',
      HOSTILE,
      '-i',
      'eth0',
      '-f',
      'icmp or tcp port 80',
      '--chaste',
    ]);
  });

  it('URL-encodes targets, interfaces and the filter of the pcapng link', () => {
    const url = pcapngUrl(
      'http://127.0.0.1:5000/',
      spec({ interfaces: ['eth0', 'e 1'], filter: 'port 53' }),
      10,
    );
    assert.equal(
      url,
      "http://127.0.0.1:5000/api/capture.pcapng?targets=a'b%3B%24(rm%20-rf%20%2F)&nif=eth0/e%201&filter=port%2053&seconds=10",
    );
    const u = new URL(url);
    assert.deepEqual(u.searchParams.getAll('targets'), [HOSTILE]);
    assert.equal(u.searchParams.get('filter'), 'port 53');
  });

  it('quotes the curl line, with the token header only when one is configured', () => {
    const base = 'http://h:5000/';
    const plain = curlLine(base, spec({ filter: 'icmp' }), false);
    assert.doesNotMatch(plain, /Authorization/);
    const words = shellWords(plain.split(' | ')[0]!);
    assert.deepEqual(words, ['curl', '-sN', pcapngUrl(base, spec({ filter: 'icmp' }))]);
    const withToken = curlLine(base, spec(), true);
    assert.match(withToken, /^curl -sN -H "Authorization: Bearer \$WIRESCOPE_TOKEN" '/);
  });

  it('builds the packetflix link cshargextcap reads: ws URL ending in /capture, container JSON, nif, filter, chaste', () => {
    const url = packetflixUrl('https://example.org:8443/ws/', target, spec({ filter: 'udp', chaste: true }));
    assert.ok(url.startsWith('packetflix:wss://example.org:8443/ws/capture?'), url);
    // What the plugin does: strip the scheme, parse, read the parameters.
    const u = new URL(url.slice('packetflix:'.length));
    assert.equal(u.pathname, '/ws/capture');
    assert.deepEqual(JSON.parse(u.searchParams.get('container')!), target);
    assert.equal(u.searchParams.get('nif'), 'eth0/eth1', 'all of the target’s interfaces by default');
    assert.equal(u.searchParams.get('filter'), 'udp');
    assert.ok(u.searchParams.has('chaste'));
    const one = new URL(packetflixUrl('http://h/', target, spec({ interfaces: ['eth1'] })).slice(11));
    assert.equal(one.protocol, 'ws:');
    assert.equal(one.searchParams.get('nif'), 'eth1');
    assert.equal(one.searchParams.has('filter'), false);
  });

  it('captures a selection across namespaces only where its interface names pick exactly it', () => {
    const ifs: Record<number, string[]> = {
      1: ['lo', 'eth0', 'eth1'],
      2: ['lo', 'eth1'],
      3: ['eth0', 'veth9'],
    };
    const of = (n: number) => ifs[n] ?? [];
    // a veth pair a/eth1 — b/eth1: one name, two namespaces, nothing else matches.
    assert.deepEqual(
      selectionCapture(
        [
          { netns: 1, name: 'eth1' },
          { netns: 2, name: 'eth1' },
        ],
        of,
      ),
      { targets: ['1', '2'], interfaces: ['eth1'], extra: [] },
    );
    // 1/eth0 — 3/veth9: nif=eth0/veth9 would also open 3/eth0.
    assert.deepEqual(
      selectionCapture(
        [
          { netns: 1, name: 'eth0' },
          { netns: 3, name: 'veth9' },
        ],
        of,
      ).extra,
      [{ netns: 3, name: 'eth0' }],
    );
  });
});
