/**
 * Capture filters compiled by libpcap's own compiler (pcap_compile(3PCAP))
 * through koffi, so every pcap-filter(7) expression means here what it means
 * to tcpdump and Wireshark. Only the compiler is used: the program is
 * compiled against a "dead" handle for a link type and then attached to our
 * own AF_PACKET socket (packet.ts) as a classic BPF program — struct
 * bpf_insn and the kernel's struct sock_filter have the same 8-byte layout
 * (u16 code, u8 jt, u8 jf, u32 k).
 */
import koffi, { type LibraryHandle } from 'koffi';

/** Debian's libpcap0.8 ships the library under its old soname. */
const SONAMES = ['libpcap.so.0.8', 'libpcap.so.1', 'libpcap.so'];

interface Pcap {
  openDead: (linktype: number, snaplen: number) => unknown;
  compile: (p: unknown, prog: Buffer, expr: string, optimize: number, netmask: number) => number;
  geterr: (p: unknown) => string;
  freecode: (prog: Buffer) => void;
  close: (p: unknown) => void;
}

let lib: Pcap | undefined;

function load(): Pcap {
  if (lib) return lib;
  let handle: LibraryHandle | undefined;
  let lastErr = '';
  for (const name of SONAMES) {
    try {
      handle = koffi.load(name);
      break;
    } catch (e) {
      lastErr = (e as Error).message;
    }
  }
  if (!handle) throw new Error(`capture filters need libpcap (Debian package libpcap0.8): ${lastErr}`);
  lib = {
    openDead: handle.func('void *pcap_open_dead(int linktype, int snaplen)'),
    compile: handle.func(
      'int pcap_compile(void *p, _Inout_ uint8_t *prog, const char *expr, int optimize, uint32_t netmask)',
    ),
    geterr: handle.func('const char *pcap_geterr(void *p)'),
    freecode: handle.func('void pcap_freecode(_Inout_ uint8_t *prog)'),
    close: handle.func('void pcap_close(void *p)'),
  };
  return lib;
}

/**
 * pcap_open_dead(3PCAP) takes a DLT_ value, not a LINKTYPE_ one: they agree
 * for Ethernet (1), but raw IP is DLT_RAW 12 on Linux (LINKTYPE_RAW is 101,
 * which libpcap's compiler does not know as a DLT).
 */
export const DLT_EN10MB = 1;
export const DLT_RAW = 12;

/** PCAP_NETMASK_UNKNOWN: "ip broadcast" cannot be compiled without a netmask, everything else can. */
const NETMASK_UNKNOWN = 0xffffffff;

/** A filter expression libpcap refuses; the message is libpcap's own. */
export class FilterSyntaxError extends Error {}

/**
 * Compiles `expression` for data link type `dlt` (DLT_* numbers) and
 * returns the instructions as the bytes of a sock_filter array.
 */
export function compileFilter(expression: string, dlt: number, snaplen: number): Buffer {
  const pcap = load();
  const p = pcap.openDead(dlt, snaplen);
  if (!p) throw new Error('pcap_open_dead failed');
  // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; } — 16 bytes on LP64.
  const prog = Buffer.alloc(16);
  try {
    if (pcap.compile(p, prog, expression, 1, NETMASK_UNKNOWN) !== 0) {
      throw new FilterSyntaxError(`capture filter "${expression}": ${pcap.geterr(p)}`);
    }
    const count = prog.readUInt32LE(0);
    const insns = koffi.decode(prog, 8, 'void *');
    const out = Buffer.from(koffi.view(insns, count * 8).slice(0));
    pcap.freecode(prog);
    return out;
  } finally {
    pcap.close(p);
  }
}
