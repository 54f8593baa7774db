/**
 * NAT and partition rules: nftables tables owned by a lab.
 *
 * Building: one `nft -f -` transaction per namespace (create-then-delete-then-
 * fill), so a node's partition rules change atomically — never a moment with
 * half the rules. Reading back (for up's idempotence and for verify):
 * readTableRules() in src/kernel/nftables/table-rules.ts, each rule's chain
 * and comment, which is where the lab's marks live.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ruleMark } from '../../model/lab-marks.js';
import { isIfName, shown } from '../file/names.js';
import type { Topology } from '../file/topology.js';
import { nodeAddrs } from '../file/topology.js';

export interface NftRule {
  chain: string;
  /** Rule text in nft syntax (without the comment). */
  text: string;
  mark: string;
}

export interface NftTableSpec {
  family: 'ip' | 'inet';
  table: string;
  chains: { name: string; hook: string }[];
  rules: NftRule[];
}

/**
 * A string for an nft script, in double quotes. nft(8) does not unescape
 * quoted strings (its scanner takes everything up to the next '"'), so
 * escaping cannot make free text safe: only text made of characters that
 * mean nothing there is let in — lab marks, names, addresses. The schema
 * already holds every lab value to that; this is the last line.
 */
export function nftQuoted(s: string): string {
  if (!/^[A-Za-z0-9_.:/+ -]*$/.test(s)) throw new Error(`refusing to put ${shown(s)} into an nft script`);
  return `"${s}"`;
}

/** A table name or family for an nft script (an identifier, never quoted text). */
function nftIdent(s: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(s)) throw new Error(`${shown(s)} is not an nft identifier`);
  return s;
}

/** An interface name for `oifname` (names.ts: no quote, no "*" wildcard). */
function oifname(name: string): string {
  if (!isIfName(name)) throw new Error(`${shown(name)} is not an interface name`);
  return nftQuoted(name);
}

/** The host's NAT table of a lab (undefined when it declares no NAT). Pure. */
export function natSpec(t: Topology, table: string): NftTableSpec | undefined {
  if (t.masquerade.length === 0 && t.forwards.length === 0) return undefined;
  const rules: NftRule[] = [];
  for (const m of t.masquerade) {
    const src = `${m.source.address}/${m.source.prefixlen}`;
    const fam = m.source.family === 'inet' ? 'ip' : 'ip6';
    rules.push({
      chain: 'postrouting',
      // "Out of the host": leaving for somewhere outside the source network.
      text: `${fam} saddr ${src} ${fam} daddr != ${src}${m.out ? ` oifname ${oifname(m.out)}` : ''} masquerade`,
      mark: ruleMark(t.name, `masquerade:${src}`),
    });
  }
  for (const f of t.forwards) {
    const body = `fib daddr type local ${f.proto} dport ${f.port} dnat to ${f.toAddr}:${f.toPort}`;
    rules.push({ chain: 'prerouting', text: body, mark: ruleMark(t.name, `forward:${f.proto}/${f.port}`) });
    // Locally generated connections to the host's own addresses take the output hook instead.
    rules.push({ chain: 'output', text: body, mark: ruleMark(t.name, `forward-local:${f.proto}/${f.port}`) });
  }
  return {
    family: 'ip',
    table,
    chains: [
      { name: 'prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;' },
      { name: 'output', hook: 'type nat hook output priority -100; policy accept;' },
      { name: 'postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;' },
    ],
    rules,
  };
}

/** A node's partition table: drop what comes from each blocked peer's addresses. Pure. */
export function partitionSpec(t: Topology, node: string, table: string): NftTableSpec | undefined {
  const peers = [...(t.blocked.get(node) ?? [])].sort();
  const rules: NftRule[] = [];
  for (const p of peers) {
    const addrs = nodeAddrs(t, p);
    for (const [fam, fname] of [
      ['inet', 'ip'],
      ['inet6', 'ip6'],
    ] as const) {
      const list = addrs.filter((a) => a.family === fam).map((a) => a.address);
      if (list.length === 0) continue;
      rules.push({
        chain: 'input',
        text: `${fname} saddr { ${list.join(', ')} } drop`,
        mark: ruleMark(t.name, `partition:${p}${fam === 'inet6' ? ':ipv6' : ''}`),
      });
    }
  }
  if (rules.length === 0) return undefined;
  return {
    family: 'inet',
    table,
    chains: [{ name: 'input', hook: 'type filter hook input priority filter; policy accept;' }],
    rules,
  };
}

/**
 * The comment a rule carries: its mark plus a short hash of its text, so an
 * edited rule (same mark, new target) is told apart from the one in place.
 */
export const ruleComment = (r: NftRule): string =>
  `${r.mark} ${createHash('sha1').update(r.text).digest('hex').slice(0, 8)}`;

/** The mark part of a comment written by ruleComment. */
export const markOfComment = (c: string): string => c.split(' ')[0] ?? c;

/** The nft script that replaces (or, with no spec, removes) a table in one transaction. Pure. */
export function nftScript(family: string, table: string, spec: NftTableSpec | undefined): string {
  nftIdent(family);
  nftIdent(table);
  // Declaring the table first makes the delete succeed whether or not it exists.
  let s = `table ${family} ${table}\ndelete table ${family} ${table}\n`;
  if (!spec) return s;
  s += `table ${family} ${table} {\n`;
  for (const c of spec.chains) {
    s += `  chain ${c.name} {\n    ${c.hook}\n`;
    for (const r of spec.rules.filter((r) => r.chain === c.name))
      s += `    ${r.text} comment ${nftQuoted(ruleComment(r))}\n`;
    s += '  }\n';
  }
  return `${s}}\n`;
}

/**
 * Runs one nft transaction, inside the network namespace open as `nsFd` when
 * given: the child gets that fd as its fd 3 and nsenter enters
 * /proc/self/fd/3, so no pid is looked up again (a pid can be reused).
 */
export function runNft(script: string, nsFd?: number): Promise<void> {
  const [cmd, args] =
    nsFd !== undefined ? ['nsenter', ['--net=/proc/self/fd/3', 'nft', '-f', '-']] : ['nft', ['-f', '-']];
  return new Promise((resolve, reject) => {
    const c = spawn(cmd as string, args as string[], {
      stdio: nsFd !== undefined ? ['pipe', 'ignore', 'pipe', nsFd] : ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    c.on('error', (e) => reject(new Error(`nft: ${e.message}`)));
    c.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `nft: ${
                err
                  .trim()
                  .split('\n')
                  .find((l) => l.startsWith('Error')) ??
                err.trim().split('\n')[0] ??
                `exit ${code}`
              }`,
            ),
          ),
    );
    c.stdin?.end(script);
  });
}
