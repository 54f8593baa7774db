/**
 * The state file of a lab that is up: /run/wirescope/labs/<name>.json
 * (WIRESCOPE_LAB_DIR overrides the directory). It records what only the
 * builder knows — which processes hold the nodes, the declaration last
 * applied, host sysctls it changed and their old values — so `down NAME`
 * works without the file and never removes what the lab does not own.
 * Interfaces carry their own mark (see model/lab-marks.ts), so a lost state file still
 * leaves them attributable.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { checkLabName, childPath } from '../file/names.js';
import type { LabDecl } from '../file/schema.js';
import type { NodeState } from './nodes.js';

export const stateDir = (): string => process.env.WIRESCOPE_LAB_DIR ?? '/run/wirescope/labs';

export interface LabState {
  version: 1;
  name: string;
  /** Absolute path of the file last applied. */
  file?: string;
  decl: LabDecl;
  createdAt: string;
  updatedAt: string;
  nodes: Record<string, NodeState>;
  /** Sysctls changed in namespaces that outlive the lab (the host): the value before. */
  sysctls: { ns: string; key: string; old: string }[];
  /** nftables tables the lab created, per namespace key ("family name"). */
  nft: { ns: string; family: string; table: string }[];
}

/** Files of a lab in the state directory: only ever for a valid lab name, only ever inside it. */
const labFile = (name: string, suffix: string): string =>
  childPath(stateDir(), `${checkLabName(name)}${suffix}`);
const file = (name: string): string => labFile(name, '.json');

export function readState(name: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(file(name), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as LabState;
    if (s.version !== 1 || s.name !== name) throw new Error('unknown format');
    return s;
  } catch (e) {
    throw new Error(`state file ${file(name)} is unreadable: ${(e as Error).message}`);
  }
}

/** Written atomically (rename), so a crash never leaves half a state file. */
export function writeState(s: LabState): void {
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  const tmp = `${file(s.name)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file(s.name));
}

export function removeState(name: string): void {
  rmSync(file(name), { force: true });
}

export function listStates(): LabState[] {
  let names: string[];
  try {
    names = readdirSync(stateDir()).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: LabState[] = [];
  for (const f of names.sort()) {
    try {
      const s = readState(f.slice(0, -5));
      if (s) out.push(s);
    } catch {
      // an unreadable file is reported by `status` through readState when asked by name
    }
  }
  return out;
}

/**
 * Serialises `up` and `down` of one lab: a lock file holding the owner's pid,
 * created exclusively; a lock whose owner is gone is taken over.
 */
export async function withLabLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  const lock = labFile(name, '.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        const owner = Number(readFileSafe(lock));
        throw new Error(
          `lab ${name} is being changed by another wirescope (pid ${owner || '?'}); try again when it is done`,
        );
      }
      const owner = Number(readFileSafe(lock));
      if (owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(
          `lab ${name} is being changed by another wirescope (pid ${owner}); try again when it is done`,
        );
      }
      rmSync(lock, { force: true }); // stale: its owner is gone
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
