/**
 * Decorators run over the assembled draft, after the network stage, in the
 * order of one typed list (as Ghostwire registers its decorators): adding
 * one is adding an entry here, and `discover()` neither names nor calls any
 * of them itself. Order matters where one reads what another wrote; each
 * entry says why it sits where it does.
 */
import type { ContainerSource } from '../engines/source.js';
import type { Draft } from '../model/types.js';
import {
  closeForwardedPortSockets,
  decorateForwardedPorts,
  type IncrementalHint,
} from './forwarded-ports/index.js';
import { decorateNetworkNames } from './network-names/index.js';

export interface DecorateContext {
  containers?: ContainerSource;
  /** Incremental discovery: decorators that read the kernel per namespace may reuse reads of the namespaces the network stage reused. */
  incremental?: IncrementalHint;
  /** Namespaces the network stage found without nf_tables tables or a legacy nat table (NetworkResult.natFree). */
  natFree?: ReadonlySet<number>;
}

export interface Decorator {
  /** Its folder under src/decorators/. */
  name: string;
  decorate(draft: Draft.Discovery, ctx: DecorateContext): void | Promise<void>;
  /** Releases what it keeps for warm runs on this thread (fds of the process outlive the thread). */
  close?(): void;
}

export const DECORATORS: readonly Decorator[] = [
  // First: engine and CNI network names only annotate interfaces; nothing after depends on them yet.
  { name: 'network-names', decorate: (draft, ctx) => decorateNetworkNames(draft, ctx.containers) },
  // Reads the finished namespaces, listeners and containers to say who serves a forwarded port.
  {
    name: 'forwarded-ports',
    decorate: (draft, ctx) => decorateForwardedPorts(draft, {}, ctx.incremental, ctx.natFree),
    close: closeForwardedPortSockets,
  },
];

export async function decorate(draft: Draft.Discovery, ctx: DecorateContext): Promise<void> {
  for (const d of DECORATORS) await d.decorate(draft, ctx);
}

/** Every decorator's `close`, for `closeDiscovery()`. */
export function closeDecorators(): void {
  for (const d of DECORATORS) d.close?.();
}
