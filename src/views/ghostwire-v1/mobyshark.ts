/**
 * Capture targets for Ghostwire's `GET /mobyshark` (api/v1/targets.go): one
 * target per stand-alone process, per container not in a pod, per pod, and
 * per process-less (bind-mounted) network namespace — each with the
 * interfaces a capture can attach to and a canary process (PID + starttime)
 * that lets the capture service detect a reused namespace inode.
 */
import type { Discovery } from '../../model/types.js';
import { holderName, v1ContainerType } from './containers.js';
import { buildContext, isKthreadd } from './context.js';
import { v1Operstate } from './interfaces.js';
import type { CaptureTarget, TargetDiscoveryResult } from './schema.js';
import { type V1Options, v1Metadata } from './transform.js';

export function mobyshark(discovery: Discovery, options: V1Options = {}): TargetDiscoveryResult {
  const ctx = buildContext(discovery);
  const targets: CaptureTarget[] = [];
  const pods = new Set<string>();
  const networks = Object.values(discovery.networks).sort(
    (a, b) => Number(b.isInitial) - Number(a.isInitial) || a.ino - b.ino,
  );
  for (const ns of networks) {
    // dumpcap refuses DOWN interfaces (TAP/TUN in particular), so they are no capture targets.
    const nifNames = [...ns.interfaces]
      .sort((a, b) => a.index - b.index)
      .filter((n) => v1Operstate(n.operstate) !== 'DOWN')
      .map((n) => n.name);
    const seen = new Set<number>();
    const tenants = ns.tenants.filter(
      (t) => !isKthreadd(t, discovery.processes[t.pid]) && !seen.has(t.pid) && seen.add(t.pid) !== undefined,
    );
    if (tenants.length === 0) {
      targets.push({
        name: holderName(ctx, ns.ino),
        type: 'bindmount',
        netns: ns.ino,
        'network-interfaces': nifNames,
        pid: 0,
        starttime: 0,
        prefix: '',
      });
      continue;
    }
    for (const t of tenants) {
      const base = { netns: ns.ino, 'network-interfaces': nifNames, pid: t.pid, starttime: t.starttime };
      const nativeId = t.container ?? discovery.processes[t.pid]?.container;
      const c = nativeId === undefined ? undefined : ctx.containers.get(nativeId);
      if (c === undefined) {
        targets.push({ ...base, name: `${t.comm}(${t.pid})`, type: 'proc', prefix: '' });
        continue;
      }
      // A pod is one target (its containers share the namespace), taken once.
      const pod = c.groups
        .map((gid) => discovery.groups[gid] ?? Object.values(discovery.groups).find((g) => g.id === gid))
        .find((g) => g !== undefined && /(^|\.)pod$/.test(g.type));
      if (pod) {
        if (!pods.has(pod.id)) {
          pods.add(pod.id);
          targets.push({ ...base, name: pod.name, type: 'pod', prefix: '' });
        }
        continue;
      }
      targets.push({ ...base, name: c.name || c.id, type: v1ContainerType(c.type), prefix: c.prefix ?? '' });
    }
  }
  return { metadata: v1Metadata(discovery, options), containers: targets };
}
