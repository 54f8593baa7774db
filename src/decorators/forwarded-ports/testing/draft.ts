/** Drafts with network namespaces and nothing else, for decorator tests and the bench. */
import type { Draft } from '../../../model/types.js';

/** One entry per namespace: `ref` is a path that opens it. */
export function draftOf(namespaces: readonly { ino: number; ref: string }[]): Draft.Discovery {
  const d: Draft.Discovery = {
    schema: 'wirescope/native/v1',
    startedAt: '',
    durationMs: 0,
    initial: {},
    namespaces: {},
    processes: {},
    networks: {},
    containers: {},
    engines: {},
    groups: {},
    warnings: [],
    missingPrivileges: [],
  };
  for (const { ino, ref } of namespaces) {
    d.namespaces[String(ino)] = {
      type: 'net',
      ino,
      dev: 0,
      processes: [],
      leaders: [],
      bindMounts: [],
      fds: [],
      ref,
    };
    d.networks[String(ino)] = {
      ino,
      isInitial: false,
      interfaces: [],
      routes: [],
      rules: [],
      neighbours: [],
      sockets: [],
      forwardedPorts: [],
      tenants: [],
      nsids: {},
    };
  }
  return d;
}

/** A draft with one network namespace; `ref` is a path that opens it. */
export function minimalDraft(netns: number, ref: string): Draft.Discovery {
  return draftOf([{ ino: netns, ref }]);
}
