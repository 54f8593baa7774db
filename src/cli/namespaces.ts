// PLACEHOLDER — `wirescope namespaces` (issue 2).
import type { Command } from 'commander';

export function registerNamespaces(program: Command): void {
  program.command('namespaces').description('list every namespace (like lsns, but complete)');
}
