// PLACEHOLDER — replaced by the namespace stage (issue 2).
import type { Draft, NamespaceType } from '../model/types.js';

export interface NamespaceScanOptions {
  /** Namespace types to discover (default: all eight). */
  namespaceTypes?: readonly NamespaceType[];
  /** Sources to scan (default: all). */
  sources?: { processes?: boolean; tasks?: boolean; fds?: boolean; bindMounts?: boolean };
  /** procfs root, for tests (default /proc). */
  procRoot?: string;
}

export interface NamespaceScan {
  namespaces: Record<string, Draft.Namespace>;
  processes: Record<string, Draft.Process>;
  initial: Draft.Discovery['initial'];
  warnings: Draft.Warning[];
  missingPrivileges: Draft.Discovery['missingPrivileges'];
}

export function scanNamespaces(_options: NamespaceScanOptions = {}): NamespaceScan {
  throw new Error('scanNamespaces: not implemented yet');
}
