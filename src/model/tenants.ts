/**
 * Which tenants name a network namespace, shared by the views and the web
 * UI (pure, type imports only).
 *
 * A minimal runtime (`unshare … chroot ROOTFS CMD`, bubblewrap, firejail,
 * vagga) leaves its launcher in the namespace as its leader and runs the
 * workload below it with a root of its own: both are tenants, but the
 * namespace is the workload's. A tenant from which another tenant of the
 * same namespace descends is such a launcher; names prefer the others.
 */
import type { Process, Tenant } from './types.js';

/** Parent walks stop here: a PID table read while processes came and went may hold a cycle. */
const MAX_DEPTH = 4096;

/** PIDs of the tenants that another of `tenants` descends from. */
export function launcherPids(
  tenants: readonly Tenant[],
  processes: Readonly<Record<string, Process>>,
): Set<number> {
  const pids = new Set(tenants.map((t) => t.pid));
  const out = new Set<number>();
  if (pids.size < 2) return out;
  for (const t of tenants) {
    let p = processes[t.pid];
    for (let depth = 0; p !== undefined && depth < MAX_DEPTH; depth++) {
      if (p.ppid === p.pid || p.ppid <= 0) break;
      p = processes[p.ppid];
      // Back at the start: a cycle, not an ancestor.
      if (p === undefined || p.pid === t.pid) break;
      if (pids.has(p.pid)) out.add(p.pid);
    }
  }
  return out;
}

/** The tenants in the order names take them: launchers after the rest, otherwise as given. */
export function inNamingOrder(
  tenants: readonly Tenant[],
  processes: Readonly<Record<string, Process>>,
): Tenant[] {
  const launchers = launcherPids(tenants, processes);
  if (launchers.size === 0) return [...tenants];
  return [...tenants.filter((t) => !launchers.has(t.pid)), ...tenants.filter((t) => launchers.has(t.pid))];
}

/** The tenants a namespace is named after: all but launchers. */
export function namingTenants(
  tenants: readonly Tenant[],
  processes: Readonly<Record<string, Process>>,
): Tenant[] {
  const launchers = launcherPids(tenants, processes);
  return tenants.filter((t) => !launchers.has(t.pid));
}
