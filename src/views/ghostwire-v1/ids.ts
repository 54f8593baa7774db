/**
 * JSON document-internal identifiers of the Ghostwire v1 document.
 *
 * They are derived from kernel identities only (nsfs inodes, ifindexes, PIDs),
 * never from the order of discovery, so they stay the same across discoveries
 * as long as the kernel objects live and clients can follow an object from one
 * document to the next (Ghostwire's server numbers groups by discovery order;
 * we do not).
 */
import type { InterfaceRef } from '../../model/types.js';

export const netnsId = (ino: number): string => `netns-${ino}`;
export const nifId = (netns: number, index: number): string => `nif-${netns}-${index}`;
export const nifRefId = (ref: InterfaceRef): string => `nif-${ref.netns}-${ref.index}`;
/** Containers and stand-alone processes are identified by their initial process. */
export const contId = (pid: number): string => `cont-${pid}`;
/** A bind-mount "container" has no process; Ghostwire's server names it after the netns. */
export const bindmountId = (netnsIno: number): string => `bmnt-${netnsIno}`;
export const pidnsId = (ino: number): string => `pidns-${ino}`;
/**
 * v1 groups are per network namespace ("network stack-aggregating"); a
 * native group (a pod, say) whose members a scan finds in two namespaces
 * becomes two v1 groups, so ids stay unique within the document.
 */
export const groupId = (netnsIno: number, nativeGroupId: string): string =>
  `group-${netnsIno}-${nativeGroupId}`;
