/**
 * Names the calling thread (/proc/thread-self/comm, at most 15 bytes: TASK_COMM_LEN), so
 * `top -H`, /proc/PID/task/TID/stat and the benchmarks tell wirescope's worker threads apart
 * (Node names them all after the process). Best effort: a failure changes nothing else.
 */
import { writeFileSync } from 'node:fs';

export function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // not Linux, or /proc not mounted: the name only helps people looking
  }
}
