/**
 * Linux capabilities (include/uapi/linux/capability.h) and the set container
 * engines grant by default (Docker/containerd/Podman "default capabilities"),
 * so the UI can point out what a container got beyond that.
 */
export const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const; // biome-ignore format: one capability per bit, in kernel order

/** moby/oci default capability set (DefaultCapabilities in moby's oci/caps/defaults.go). */
export const DEFAULT_CONTAINER_CAPS = new Set([
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
]); // biome-ignore format: list

/** Decodes "0x000001ffffffffff" into capability names (unknown bits as "cap_N"). */
export function decodeCaps(hex: string): string[] {
  let v: bigint;
  try {
    v = BigInt(hex.startsWith('0x') ? hex : `0x${hex}`);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((v >> BigInt(bit)) & 1n) out.push(CAP_NAMES[bit] ?? `cap_${bit}`);
  }
  return out;
}

/** True when the set holds every capability the kernel knows: nothing to point out. */
export const isFullSet = (caps: readonly string[]): boolean => CAP_NAMES.every((c) => caps.includes(c));
