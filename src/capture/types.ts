/** Messages between a capture session (main thread) and its packet-source worker. */

/** One interface to capture on, in one network namespace. */
/**
 * What a caller checks before the capture machinery loads (the service loads
 * session.ts, targets.ts and libpcap with its first capture).
 */
/** A capture that cannot start at all: bad filter, nothing to open, no CAP_NET_RAW. One line. */
export class CaptureError extends Error {}

/** A TARGET or interface that matches nothing: a user error, said in one line. */
export class TargetError extends Error {}

/** Longest filter expression accepted: far beyond any hand-written filter, small enough to bound the compiler. */
export const MAX_FILTER_LENGTH = 4096;

export interface CaptureInterfaceSpec {
  /** Paths that open the namespace, tried in turn (as discovery found them). */
  refs: string[];
  netns: number;
  ifindex: number;
  ifname: string;
  /** `netns/container:iface`, the IDB's if_name. */
  label: string;
  description: string;
}

export interface WorkerInit {
  interfaces: CaptureInterfaceSpec[];
  promiscuous: boolean;
  snaplen: number;
  filters?: { ethernet: Uint8Array; raw: Uint8Array };
  blockSize: number;
  blocks: number;
  retireMs: number;
  /** Bytes handed to the main thread and not yet acknowledged before the worker stops reading the rings. */
  maxInflight: number;
}

export type WorkerMessage =
  | { type: 'opened'; ifid: number; spec: number; linktype: number }
  /** `denied`: the kernel refused the packet socket itself (CAP_NET_RAW), which no other interface will get either. */
  | { type: 'open-failed'; spec: number; message: string; denied: boolean }
  | { type: 'ready' }
  | { type: 'batch'; buf: ArrayBuffer; len: number; packets: number[] }
  | { type: 'gone'; ifid: number; reason: string; packets: number; drops: number }
  | { type: 'stats'; stats: { ifid: number; packets: number; drops: number }[] }
  | { type: 'fatal'; message: string };

export type MainMessage =
  | { type: 'ack'; bytes: number }
  | { type: 'stop' }
  /** The namespace lives on only through the capture's own sockets: close them. */
  | { type: 'close-netns'; netns: number; reason: string };
