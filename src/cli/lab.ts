/**
 * `wirescope lab up|down|status`: build a declared topology, tear it down,
 * list the labs that are up. Exit 0 on success, 2 on error.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LoadedLab } from '../lab/file/load.js';
import { escapeTerminal } from '../views/terminal.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

// The lab modules load only when a lab command runs: other commands start faster.
const labModules = async () => ({
  ...(await import('../lab/file/load.js')),
  ...(await import('../lab/build/apply.js')),
  ...(await import('../lab/build/down.js')),
});

// Lab files, node names and kernel answers reach these lines: escaped for the terminal.
const progress = (line: string) => process.stderr.write(`wirescope lab: ${escapeTerminal(line)}\n`);
const say = (line: string) => process.stdout.write(`${escapeTerminal(line)}\n`);

export async function loadLabFile(file: string): Promise<LoadedLab> {
  const { LabFileError, loadLab } = await import('../lab/file/load.js');
  try {
    // The state file records where the lab came from: an absolute path stays valid from anywhere.
    return loadLab(resolve(file));
  } catch (e) {
    if (e instanceof LabFileError) {
      // Every problem on its own line; the last one carries the exit.
      const lines = e.details().split('\n');
      for (const l of lines.slice(0, -1)) process.stderr.write(`wirescope: ${escapeTerminal(l)}\n`);
      throw new CliError(lines[lines.length - 1] ?? e.message, 2);
    }
    throw e;
  }
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description(SUMMARIES.lab.description);

  lab
    .command('up')
    .description('create or reconcile the lab declared in FILE (idempotent)')
    .argument('<file>', 'lab file (YAML)')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { dryRun?: boolean; json?: boolean }) => {
      const l = await loadLabFile(file);
      const { labUp } = await labModules();
      const r = await labUp(l, { dryRun: o.dryRun ?? false, progress: o.json ? () => {} : progress }).catch(
        (e: Error) => {
          throw new CliError(e.message, 2);
        },
      );
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const verb = o.dryRun ? 'would' : 'did';
      if (r.steps.length === 0) say(`lab ${r.name}: up to date, nothing to do`);
      else {
        say(`lab ${r.name}: ${o.dryRun ? 'plan' : 'applied'} (${r.steps.length} step(s))`);
        for (const s of r.steps)
          say(`  ${s.op === 'create' ? '+' : s.op === 'delete' ? '-' : '~'} ${s.text}`);
        if (!o.dryRun) say(`lab ${r.name} is up`);
        else say(`(dry run: ${verb} change nothing)`);
      }
    });

  lab
    .command('down')
    .description('remove exactly what the lab owns')
    .argument('<file-or-name>', 'lab file or lab name')
    .option('--json', 'machine-readable output')
    .action(async (arg: string, o: { json?: boolean }) => {
      const name = existsSync(arg) && /\.ya?ml$/i.test(arg) ? (await loadLabFile(arg)).topology.name : arg;
      const { labDown } = await labModules();
      const r = await labDown(name, { progress: o.json ? () => {} : progress }).catch((e: Error) => {
        throw new CliError(e.message, 2);
      });
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.notUp) say(`lab ${name} is not up`);
      else say(`lab ${name} is down (${r.removed.length} object(s) removed)`);
    });

  lab
    .command('status')
    .description('the labs that are up and their nodes')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const { labStatus } = await labModules();
      const s = labStatus();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      if (s.length === 0) process.stdout.write('no lab is up\n');
      for (const l of s) {
        const dead = l.nodes.filter((n) => !n.alive).length;
        say(
          `${l.name}${l.file ? `  (${l.file})` : ''}  ${l.nodes.length} node(s)${dead ? `, ${dead} not running` : ''}`,
        );
        for (const n of l.nodes) {
          say(
            `  ${n.name.padEnd(16)} ${n.kind.padEnd(9)} ${n.alive ? 'running' : 'NOT RUNNING'}${n.pid ? `  pid ${n.pid}` : ''}${n.netns ? `  net:[${n.netns}]` : ''}${n.container ? `  ${n.container}` : ''}`,
          );
        }
      }
    });
}
