// PLACEHOLDER — replaced by the namespace stage (issue 2).
import type { Draft } from '../model/types.js';
import type { NamespaceScan } from './scan.js';

export interface TenantResult {
  byNetns: Map<number, Draft.Tenant[]>;
  warnings: Draft.Warning[];
}

export function collectTenants(
  _scan: NamespaceScan,
  _containers: Record<string, Draft.Container>,
  _options: { dns: boolean },
): TenantResult {
  throw new Error('collectTenants: not implemented yet');
}
