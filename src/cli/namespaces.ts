/**
 * `wirescope namespaces`: every namespace on the host, like lsns(8) but
 * complete — the user and PID namespace trees, namespaces held only by a
 * bind mount or an fd, each namespace's leaders. `--json` prints the
 * namespace part of the native model.
 */
import { type Command, Option } from 'commander';
import type { NamespaceType } from '../model/types.js';
import { NAMESPACE_TYPES } from '../namespaces/ns-types.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { privilegeLine, renderNamespaces, warningLine } from '../views/namespaces.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

interface Opts {
  json?: boolean;
  type?: string[];
  fds: boolean;
  bindMounts: boolean;
  tasks: boolean;
}

export function registerNamespaces(program: Command): void {
  program
    .command('namespaces')
    .description(SUMMARIES.namespaces.description)
    .option('--json', 'print the namespaces, processes and warnings of the native model as JSON')
    .addOption(new Option('-t, --type <type...>', 'only these namespace types').choices([...NAMESPACE_TYPES]))
    .option('--no-fds', 'do not look for namespaces held by open file descriptors')
    .option('--no-bind-mounts', 'do not look for bind-mounted namespaces')
    .option('--no-tasks', 'do not look at the threads of multi-threaded processes')
    .action((opts: Opts) => {
      const types = opts.type as NamespaceType[] | undefined;
      let scan: ReturnType<typeof scanNamespaces>;
      try {
        scan = scanNamespaces({
          ...(types ? { namespaceTypes: types } : {}),
          sources: { fds: opts.fds, bindMounts: opts.bindMounts, tasks: opts.tasks },
        });
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      const priv = privilegeLine(scan);
      if (priv !== undefined) process.stderr.write(`wirescope: ${priv}\n`);
      if (opts.json) {
        const { initial, namespaces, processes, warnings, missingPrivileges } = scan;
        process.stdout.write(
          `${JSON.stringify({ initial, namespaces, processes, warnings, missingPrivileges }, null, 2)}\n`,
        );
        return;
      }
      process.stdout.write(renderNamespaces(scan));
      const warn = warningLine(scan.warnings);
      if (warn !== undefined) process.stderr.write(`wirescope: ${warn}\n`);
    });
}
