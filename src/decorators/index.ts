// PLACEHOLDER — decorators (issue 4) run here over the assembled draft.
import type { ContainerSource } from '../engines/source.js';
import type { Draft } from '../model/types.js';

export interface DecorateContext {
  containers?: ContainerSource;
}

export async function decorate(_draft: Draft.Discovery, _ctx: DecorateContext): Promise<void> {}
