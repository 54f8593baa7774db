/**
 * AF_PACKET capture sockets with a TPACKET_V3 memory-mapped receive ring
 * (Documentation/networking/packet_mmap.rst). The kernel fills whole blocks
 * of packets into memory shared with us, so a packet costs no system call;
 * a block is handed over when full or after `retireMs`, which bounds how
 * late a packet reaches the stream on a quiet link.
 *
 * The socket must be created inside the target network namespace (the caller
 * wraps `openPacketSocket` in `withNetns`); it then keeps capturing there
 * from any thread. Nothing else of the target (mount, PID, user namespace)
 * is entered.
 */
import koffi from 'koffi';
import {
  bind,
  close,
  getsockoptBuf,
  ioctlStruct,
  mmapShared,
  munmap,
  SyscallError,
  setsockoptBuf,
  setsockoptInt,
  socket,
} from './libc.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const ENXIO = 6;
const ENODEV = 19;
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_RX_RING = 5;
const PACKET_STATISTICS = 6;
const PACKET_VERSION = 10;
const TPACKET_V3 = 2;
const PACKET_MR_PROMISC = 1;
const SIOCGIFNAME = 0x8910;
const SIOCGIFHWADDR = 0x8927;

/** include/uapi/linux/if_arp.h */
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;

/** tpacket3_hdr status bits (include/uapi/linux/if_packet.h). */
const TP_STATUS_USER = 1;
const TP_STATUS_VLAN_VALID = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID = 1 << 6;
/** sll_pkttype */
export const PACKET_OUTGOING = 4;

/** pcapng / tcpdump.org LINKTYPE_* values. */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;

export interface PacketSocketOptions {
  ifindex: number;
  /** The name the caller expects at `ifindex`; a different one means the interface was replaced. */
  ifname: string;
  promiscuous: boolean;
  /** Compiled filters by the link type the kernel sees (ethernet or raw IP); none = every packet. */
  filters?: { ethernet: Buffer; raw: Buffer };
  blockSize: number;
  blocks: number;
  retireMs: number;
}

export interface PacketSocket {
  fd: number;
  ifindex: number;
  ifname: string;
  /** pcapng link type of what `drain` hands out. */
  linktype: number;
  /** Loopback sees each packet twice (out and in); the outgoing copy is skipped as libpcap does. */
  loopback: boolean;
  /** Non-ethernet devices are read as SOCK_DGRAM and given a Linux cooked (SLL) header. */
  cooked: boolean;
  ring: Uint8Array;
  ringView: DataView;
  ringWords: Int32Array;
  ringPtr: unknown;
  ringSize: number;
  blockSize: number;
  blocks: number;
  next: number;
}

/** Thrown when the kernel refuses a packet socket: the one capability it needs, named. */
export class CaptureDeniedError extends Error {}

/**
 * socket(AF_PACKET): packet_create() asks ns_capable(net->user_ns,
 * CAP_NET_RAW) of the namespace the thread is in, so the capability is the
 * whole story of an EPERM here.
 */
function packetSocket(type: number): number {
  try {
    return socket(AF_PACKET, type | SOCK_CLOEXEC, 0);
  } catch (e) {
    if (e instanceof SyscallError && e.denied)
      throw new CaptureDeniedError(
        'capturing packets needs CAP_NET_RAW (packet sockets), which this process lacks',
      );
    throw e;
  }
}

function ifreq(name: string): Buffer {
  const b = Buffer.alloc(40);
  b.write(name.slice(0, 15), 0, 'latin1');
  return b;
}

/** Name and hardware type of `ifindex`, asked through `fd` (so in the socket's namespace). */
function describe(fd: number, ifindex: number): { name: string; arphrd: number } {
  const req = Buffer.alloc(40);
  req.writeInt32LE(ifindex, 16);
  ioctlStruct(fd, SIOCGIFNAME, req);
  const end = req.indexOf(0);
  const name = req.toString('latin1', 0, end < 0 ? 16 : Math.min(end, 16));
  const hw = ifreq(name);
  ioctlStruct(fd, SIOCGIFHWADDR, hw);
  return { name, arphrd: hw.readUInt16LE(16) };
}

/**
 * Opens a capture socket on `ifindex` of the calling thread's network
 * namespace. Order as libpcap: the socket is created with protocol 0 (it
 * receives nothing), the filter and ring are set up, and only bind() with
 * ETH_P_ALL starts the flow — so no packet slips past the filter.
 */
export function openPacketSocket(o: PacketSocketOptions): PacketSocket {
  let fd = packetSocket(SOCK_RAW);
  let mapped: unknown;
  const size = o.blockSize * o.blocks;
  try {
    const { name, arphrd } = describe(fd, o.ifindex);
    if (name !== o.ifname)
      throw new SyscallError('open', ENODEV, `interface ${o.ifindex} is now ${name}, not ${o.ifname}`);
    const ethernet = arphrd === ARPHRD_ETHER || arphrd === ARPHRD_LOOPBACK;
    if (!ethernet) {
      // Tunnels, tun and the like have no (or no ethernet) link header: read from the network
      // header (SOCK_DGRAM) and prefix the cooked header built from the ring's sockaddr_ll.
      close(fd);
      fd = packetSocket(SOCK_DGRAM);
    }
    setsockoptInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3);
    if (o.filters) {
      const insns = ethernet ? o.filters.ethernet : o.filters.raw;
      // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
      const prog = Buffer.alloc(16);
      prog.writeUInt16LE(insns.length / 8, 0);
      prog.writeBigUInt64LE(BigInt(koffi.address(insns)), 8);
      setsockoptBuf(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog);
    }
    // struct tpacket_req3: block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word.
    const frameSize = 2048;
    const req = Buffer.alloc(28);
    req.writeUInt32LE(o.blockSize, 0);
    req.writeUInt32LE(o.blocks, 4);
    req.writeUInt32LE(frameSize, 8);
    req.writeUInt32LE((o.blockSize / frameSize) * o.blocks, 12);
    req.writeUInt32LE(o.retireMs, 16);
    setsockoptBuf(fd, SOL_PACKET, PACKET_RX_RING, req);
    mapped = mmapShared(fd, size);
    // struct sockaddr_ll: family, protocol (network order), ifindex, …
    const sll = Buffer.alloc(20);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeUInt16BE(ETH_P_ALL, 2);
    sll.writeInt32LE(o.ifindex, 4);
    bind(fd, sll);
    if (o.promiscuous) {
      // struct packet_mreq { int mr_ifindex; u16 mr_type; u16 mr_alen; u8 mr_address[8]; }
      // A membership, not IFF_PROMISC: the kernel counts it and drops it when the socket closes.
      const mreq = Buffer.alloc(16);
      mreq.writeInt32LE(o.ifindex, 0);
      mreq.writeUInt16LE(PACKET_MR_PROMISC, 4);
      setsockoptBuf(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq);
    }
    const ab = koffi.view(mapped, size);
    return {
      fd,
      ifindex: o.ifindex,
      ifname: name,
      linktype: ethernet ? LINKTYPE_ETHERNET : LINKTYPE_LINUX_SLL,
      loopback: arphrd === ARPHRD_LOOPBACK,
      cooked: !ethernet,
      ring: new Uint8Array(ab),
      ringView: new DataView(ab),
      ringWords: new Int32Array(ab),
      ringPtr: mapped,
      ringSize: size,
      blockSize: o.blockSize,
      blocks: o.blocks,
      next: 0,
    };
  } catch (e) {
    if (mapped !== undefined) munmap(mapped, size);
    close(fd);
    throw e;
  }
}

export function closePacketSocket(s: PacketSocket): void {
  munmap(s.ringPtr, s.ringSize);
  close(s.fd);
}

/** Packets seen by the socket's filter and dropped for want of ring space since the last call (the kernel resets them). */
export function packetStats(s: PacketSocket): { packets: number; drops: number } {
  // struct tpacket_stats_v3 { u32 tp_packets, tp_drops, tp_freeze_q_cnt; }
  const b = Buffer.alloc(12);
  getsockoptBuf(s.fd, SOL_PACKET, PACKET_STATISTICS, b);
  return { packets: b.readUInt32LE(0), drops: b.readUInt32LE(4) };
}

/**
 * SO_ERROR, which reading clears. packet_notifier() sets ENETDOWN on a socket
 * bound to a device that goes down (NETDEV_DOWN) or is unregistered
 * (NETDEV_UNREGISTER), and packet_do_bind() on one bound while down; only
 * the second ends a capture, `interfaceGone` tells them apart.
 */
export function socketError(s: PacketSocket): number {
  const b = Buffer.alloc(4);
  getsockoptBuf(s.fd, SOL_SOCKET, SO_ERROR, b);
  return b.readInt32LE(0);
}

/**
 * Whether the socket's interface is gone from the socket's namespace:
 * SIOCGIFNAME by index through the socket asks that namespace (ENODEV when no
 * device has the index any more). A device that came back under the same
 * index with another name is another device: gone as well. The kernel
 * re-registers the socket on NETDEV_UP, so a device that was merely down
 * keeps capturing.
 */
export function interfaceGone(s: PacketSocket): boolean {
  const req = Buffer.alloc(40);
  req.writeInt32LE(s.ifindex, 16);
  try {
    ioctlStruct(s.fd, SIOCGIFNAME, req);
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === ENODEV || e.errno === ENXIO)) return true;
    throw e;
  }
  const end = req.indexOf(0);
  return req.toString('latin1', 0, end < 0 ? 16 : Math.min(end, 16)) !== s.ifname;
}

/**
 * One packet as the ring holds it. `data` is a view into the ring, valid only
 * during the callback; `prefix` holds bytes to put before it (a re-inserted
 * VLAN tag splits ethernet frames: first 12 bytes, tag, rest; a cooked header).
 */
export type PacketSink = (
  ring: Uint8Array,
  start: number,
  snaplen: number,
  len: number,
  sec: number,
  nsec: number,
  insert: Uint8Array | undefined,
  insertAt: number,
) => void;

const vlanTag = new Uint8Array(4);
const sllHeader = new Uint8Array(16);

/**
 * Hands every packet of the blocks the kernel has released to `sink`, returns
 * each block to the kernel, and returns the number of packets. Stops after
 * `maxBlocks` blocks so one busy socket cannot starve the others.
 *
 * block_status is read and written with Atomics: the kernel publishes a block
 * by a store to it after the packets (smp_wmb in prb_close_block), and the
 * block must be read completely before it is given back.
 */
export function drain(s: PacketSocket, sink: PacketSink, maxBlocks = s.blocks): number {
  let count = 0;
  const v = s.ringView;
  for (let n = 0; n < maxBlocks; n++) {
    const base = s.next * s.blockSize;
    // struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1 { block_status,
    // num_pkts, offset_to_first_pkt, blk_len, seq_num, ts_first_pkt, ts_last_pkt }.
    if ((Atomics.load(s.ringWords, (base + 8) >> 2) & TP_STATUS_USER) === 0) break;
    const num = v.getUint32(base + 12, true);
    let p = base + v.getUint32(base + 16, true);
    for (let i = 0; i < num; i++) {
      // struct tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac (u16), net (u16),
      // hv1 { rxhash, vlan_tci, vlan_tpid (u16) }; sockaddr_ll follows at 48.
      const next = v.getUint32(p, true);
      const status = v.getUint32(p + 20, true);
      const pkttype = s.ring[p + 58] ?? 0;
      if (!(s.loopback && pkttype === PACKET_OUTGOING)) {
        const sec = v.getUint32(p + 4, true);
        const nsec = v.getUint32(p + 8, true);
        const snaplen = v.getUint32(p + 12, true);
        const len = v.getUint32(p + 16, true);
        const mac = v.getUint16(p + 24, true);
        if (s.cooked) {
          // Linux cooked header v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
          sllHeader[0] = 0;
          sllHeader[1] = pkttype;
          sllHeader[2] = s.ring[p + 57] ?? 0;
          sllHeader[3] = s.ring[p + 56] ?? 0;
          const halen = Math.min(s.ring[p + 59] ?? 0, 8);
          sllHeader[4] = 0;
          sllHeader[5] = halen;
          sllHeader.fill(0, 6, 14);
          sllHeader.set(s.ring.subarray(p + 60, p + 60 + halen), 6);
          sllHeader[14] = s.ring[p + 50] ?? 0;
          sllHeader[15] = s.ring[p + 51] ?? 0;
          sink(s.ring, p + mac, snaplen, len, sec, nsec, sllHeader, 0);
        } else if (status & TP_STATUS_VLAN_VALID && snaplen >= 12) {
          // The kernel took the 802.1Q tag out of the frame (into tp_vlan_tci); put it back as libpcap does.
          const tpid = status & TP_STATUS_VLAN_TPID_VALID ? v.getUint16(p + 36, true) : 0x8100;
          const tci = v.getUint32(p + 32, true);
          vlanTag[0] = tpid >> 8;
          vlanTag[1] = tpid & 0xff;
          vlanTag[2] = (tci >> 8) & 0xff;
          vlanTag[3] = tci & 0xff;
          sink(s.ring, p + mac, snaplen, len, sec, nsec, vlanTag, 12);
        } else {
          sink(s.ring, p + mac, snaplen, len, sec, nsec, undefined, 0);
        }
        count++;
      }
      p += next;
    }
    Atomics.store(s.ringWords, (base + 8) >> 2, 0);
    s.next = (s.next + 1) % s.blocks;
  }
  return count;
}
