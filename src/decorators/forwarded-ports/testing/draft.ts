/** A draft with one network namespace and nothing else, for decorator tests. */
import type { Draft } from '../../../model/types.js';

/** `ref` is a path that opens the namespace. */
export function minimalDraft(netns: number, ref: string): Draft.Discovery {
  return {
    schema: 'wirescope/native/v1',
    startedAt: '',
    durationMs: 0,
    initial: {},
    namespaces: {
      [String(netns)]: {
        type: 'net',
        ino: netns,
        dev: 0,
        processes: [],
        leaders: [],
        bindMounts: [],
        fds: [],
        ref,
      },
    },
    processes: {},
    networks: {
      [String(netns)]: {
        ino: netns,
        isInitial: false,
        interfaces: [],
        routes: [],
        rules: [],
        neighbours: [],
        sockets: [],
        forwardedPorts: [],
        tenants: [],
        nsids: {},
      },
    },
    containers: {},
    engines: {},
    groups: {},
    warnings: [],
    missingPrivileges: [],
  };
}
