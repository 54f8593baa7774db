/**
 * `wirescope --help` and `wirescope --version` with no command word: the
 * launcher (bin/wirescope.js) runs this entry, bundled alone as CommonJS
 * (dist/bundle/cli-top.cjs), instead of the CLI. Nothing else loads: no
 * command, not Node's ES module loader (~10 ms of a ~110 ms start here), and
 * not the heap setting, which only commands that discover need.
 */
import { CommanderError } from 'commander';
import { listCommands, topLevelProgram } from './top-level.js';

const program = topLevelProgram();
listCommands(program);
try {
  program.parse(process.argv);
} catch (err) {
  // exitOverride: commander throws where it would exit, after printing (help, version, a bad option).
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode;
}
