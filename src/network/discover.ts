// PLACEHOLDER — replaced by the network stage (issue 3).

import type { Draft } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';

export interface NetworkOptions {
  /** Read sockets via sock_diag (default true). */
  sockets?: boolean;
}

export interface NetworkResult {
  networks: Record<string, Draft.NetworkNamespace>;
  warnings: Draft.Warning[];
}

export async function discoverNetworks(
  _scan: NamespaceScan,
  _options: NetworkOptions,
): Promise<NetworkResult> {
  throw new Error('discoverNetworks: not implemented yet');
}
