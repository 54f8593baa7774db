/**
 * Leaders of a namespace: its topmost processes, those whose parent is not
 * attached to the same namespace (or who have no parent in the scan, like
 * PID 1 or a process whose parent is unreadable).
 */
export function leadersOf(
  members: ReadonlySet<number>,
  ppidOf: (pid: number) => number | undefined,
): number[] {
  const out: number[] = [];
  for (const pid of members) {
    const ppid = ppidOf(pid);
    if (ppid === undefined || !members.has(ppid)) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}
