/** Decorators run over the assembled draft, after the network stage. */
import type { ContainerSource } from '../engines/source.js';
import type { Draft } from '../model/types.js';
import { decorateForwardedPorts } from './forwarded-ports/index.js';
import { decorateNetworkNames } from './network-names/index.js';

export interface DecorateContext {
  containers?: ContainerSource;
}

export async function decorate(draft: Draft.Discovery, ctx: DecorateContext): Promise<void> {
  decorateNetworkNames(draft, ctx.containers);
  decorateForwardedPorts(draft);
}
