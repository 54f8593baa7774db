/**
 * What wirescope cannot see without a capability, from its own effective
 * set (CapEff of /proc/self/status; capability numbers from
 * include/uapi/linux/capability.h).
 */
export interface MissingPrivilege {
  capability: string;
  effect: string;
}

const NEEDED: readonly { bit: number; capability: string; effect: string }[] = [
  {
    bit: 19,
    capability: 'CAP_SYS_PTRACE',
    effect:
      "namespaces, open fds and roots of other users' processes, and of processes with capabilities wirescope lacks, are not visible (ptrace access mode checks)",
  },
  {
    bit: 21,
    capability: 'CAP_SYS_ADMIN',
    effect:
      'namespaces cannot be entered (setns): no UTS hostnames and no network details of other namespaces',
  },
  {
    bit: 2,
    capability: 'CAP_DAC_READ_SEARCH',
    effect: "other users' files (DNS configuration, bind-mounted namespaces) may be unreadable",
  },
];

/** capEff as in /proc/PID/status, with or without 0x. */
export function missingPrivileges(capEff: string): MissingPrivilege[] {
  let set: bigint;
  try {
    set = BigInt(capEff.startsWith('0x') ? capEff : `0x${capEff}`);
  } catch {
    set = 0n;
  }
  return NEEDED.filter((n) => ((set >> BigInt(n.bit)) & 1n) === 0n).map(({ capability, effect }) => ({
    capability,
    effect,
  }));
}
