/** Stable identities of model objects (see ARCHITECTURE.md "Object identity"). */
import type { InterfaceRef } from './types.js';

export const interfaceKey = (ref: InterfaceRef): string => `${ref.netns}/${ref.index}`;
export const processKey = (pid: number, starttime: number): string => `${pid}@${starttime}`;
export const sameInterface = (a: InterfaceRef | undefined, b: InterfaceRef | undefined): boolean =>
  a !== undefined && b !== undefined && a.netns === b.netns && a.index === b.index;
