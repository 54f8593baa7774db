/**
 * Carries out a check plan from the calling thread's network namespace:
 * resolve every name (bounded: `limits.resolvers`), then verify every address
 * (bounded: `limits.verifiers`), emitting each (name, address) again whenever
 * its quality changes. Run by the check worker after it entered the start
 * namespace; it never enters any other.
 */
import { isIP } from 'node:net';
import { ipv6Bytes } from '../kernel/icmp.js';
import { ipv6 } from '../kernel/rtnetlink/format.js';
import { Pinger, type ProbeResult, tcpProbe } from './probe.js';
import { resolveName } from './resolve.js';
import type { CheckPlan, Verdict } from './types.js';

/** At most `n` tasks at once, in the order they were queued. */
export class Limiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

/**
 * An address as discovery writes it (RFC 5952 for IPv6), so it finds its owner:
 * a hosts file may say `FD00:0:0::2`, and a zone (`fe80::1%eth0`) names no neighbour's address.
 */
export function canonicalAddress(a: string): string {
  return isIP(a) === 6 && !a.includes('%') ? ipv6(ipv6Bytes(a)) : a;
}

/** TCP ports tried per address: enough to find one live service, few enough to stay fast. */
const MAX_PORTS = 3;

async function verify(plan: CheckPlan, pinger: Pinger, address: string): Promise<ProbeResult> {
  const ports = (plan.ports[address] ?? []).slice(0, MAX_PORTS);
  if (ports.length === 0) return pinger.ping(address, plan.limits.probeTimeoutMs);
  const tries = await Promise.all(ports.map((p) => tcpProbe(address, p, plan.limits.probeTimeoutMs)));
  return tries.find((t) => t.ok) ?? { ok: false, via: 'tcp', error: tries.map((t) => t.error).join('; ') };
}

/** `pinger` is the caller's when it must close the ICMP sockets itself (a cancelled check). */
export async function runPlan(
  plan: CheckPlan,
  emit: (v: Verdict) => void,
  pinger = new Pinger(),
): Promise<Verdict[]> {
  const finals: Verdict[] = [];
  const resolvers = new Limiter(plan.limits.resolvers);
  const verifiers = new Limiter(plan.limits.verifiers);
  const settle = (v: Verdict) => {
    finals.push(v);
    emit(v);
  };

  const check = async (base: Omit<Verdict, 'quality' | 'address'>, address: string): Promise<void> => {
    const owner = plan.owners[address];
    emit({ ...base, address, quality: 'unverified', ...(owner !== undefined ? { neighbour: owner } : {}) });
    if (owner === undefined) {
      settle({ ...base, address, quality: 'invalid', error: 'resolves to an address no neighbour has' });
      return;
    }
    await verifiers.run(async () => {
      emit({ ...base, address, quality: 'verifying', neighbour: owner });
      const r = await verify(plan, pinger, address);
      settle({
        ...base,
        address,
        neighbour: owner,
        via: r.via,
        quality: r.ok ? 'verified' : 'unreachable',
        ...(r.error !== undefined && !r.ok ? { error: r.error } : {}),
      });
    });
  };

  try {
    const byName = plan.names.map((n) =>
      resolvers
        .run(async () => {
          emit({ fqdn: n.fqdn, address: '', quality: 'verifying', source: n.source });
          return resolveName(n.fqdn, plan.resolver, plan.limits.resolveTimeoutMs);
        })
        .then(async (res) => {
          const base = { fqdn: n.fqdn, source: n.source };
          const addrs = [...new Set(res.addresses.filter((a) => isIP(a) !== 0).map(canonicalAddress))];
          if (addrs.length === 0) {
            // Said of the neighbour the name is for, so its card in the wiring view says so too.
            const whose = n.neighbour !== undefined ? { neighbour: n.neighbour } : {};
            settle({ ...base, ...whose, address: '', quality: 'invalid', error: res.error ?? 'no address' });
            return;
          }
          await Promise.all(addrs.map((a) => check(base, a)));
        }),
    );
    const byAddress = plan.addresses.map((a) => check({ fqdn: a.label, source: a.source }, a.address));
    await Promise.all([...byName, ...byAddress]);
  } finally {
    pinger.close();
  }
  return finals;
}
