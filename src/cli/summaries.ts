/**
 * What the top-level help says of each command, in one place: `wirescope
 * --help` and `--version` print from here without loading any command (each
 * pulls in a different part of the pipeline, hundreds of milliseconds), and
 * each command's own registration takes its description from here, so the two
 * cannot disagree.
 */
export interface CommandSummary {
  /** As the Commands list spells it: name, `[options]` if it has any, its arguments. */
  readonly term: string;
  readonly description: string;
}

export const SUMMARIES = {
  namespaces: {
    term: 'namespaces [options]',
    description: 'list every namespace (like lsns, but complete): user and PID trees, holders, leaders',
  },
  discover: {
    term: 'discover [options]',
    description: 'discover once and print namespaces, tenants, interfaces, wires, routes and ports',
  },
  serve: {
    term: 'serve [options]',
    description: 'run the discovery service and web UI (default: http://127.0.0.1:5000)',
  },
  lab: { term: 'lab', description: 'build, tear down and list declared topologies (labs)' },
  verify: {
    term: 'verify [options] <file>',
    description: 'compare a lab declaration with what the kernel has (exit 0 clean, 1 drift, 2 error)',
  },
  watch: {
    term: 'watch [options]',
    description:
      'print every change of namespaces, interfaces, addresses, routes, ports and containers as it happens',
  },
  capture: {
    term: 'capture [options] <target...>',
    description:
      'capture live packets in network namespaces, containers, pods or labs into one pcapng stream',
  },
  check: {
    term: 'check [options] <target>',
    description:
      'resolve and reach the neighbours of a container or network namespace from inside it (exit 0 all verified, 1 broken, 2 error)',
  },
  hub: {
    term: 'hub [options]',
    description:
      'follow the agents (serve) of many nodes and serve one merged view, with the wires between nodes',
  },
} as const satisfies Record<string, CommandSummary>;

export type CommandName = keyof typeof SUMMARIES;
