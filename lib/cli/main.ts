#!/usr/bin/env node
/**
 * The int8-detect command. One file per subcommand under commands/; this file only dispatches
 * and turns every failure into one line on stderr and a non-zero exit.
 */
import { Int8DetectError } from '../util/errors';
import { CommandFailure, UsageError } from './args';
import type { Command } from './command';
import { cliMessage, EXIT_CODES_HELP } from './messages';
import { benchCommand } from './commands/bench';
import { buildCommand } from './commands/build';
import { buildNativeCommand } from './commands/build-native';
import { detectCommand } from './commands/detect';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { probeCommand } from './commands/probe';
import { quantizeCommand } from './commands/quantize';
import { serveCommand } from './commands/serve';
import { watchCommand } from './commands/watch';

export type { Command } from './command';

const commands: Command[] = [probeCommand, detectCommand, evalCommand, benchCommand, buildCommand, watchCommand, quantizeCommand, serveCommand, buildNativeCommand, exportCommand];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: int8-detect <command> [options]',
    '',
    'Object detection in INT8 on ONNX Runtime (CPU), OpenVINO and TensorRT.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'int8-detect <command> --help' (or 'int8-detect help <command>') for a command's options.",
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

/**
 * Print process warnings as one line each, in the CLI's words (the library's Int8DetectWarnings
 * name options; here they name flags), instead of Node's "(node:PID) Warning: ..." form.
 */
function printWarningsAs(prefix: string): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    process.stderr.write(`${prefix}: warning: ${cliMessage(warning)}\n`);
  });
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    process.stdout.write(`${(require('../../../package.json') as { version: string }).version}\n`);
    return 0;
  }
  if (name === 'help') {
    const topic = commands.find((c) => c.name === rest[0]);
    if (!topic) {
      process.stderr.write(`int8-detect: no command '${rest[0]}' to show help for\n\n${usage()}\n`);
      return 2;
    }
    process.stdout.write(`${topic.help}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`int8-detect: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  printWarningsAs(`int8-detect ${command.name}`);
  try {
    await command.run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`int8-detect ${command.name}: ${err.message} (see 'int8-detect ${command.name} --help')\n`);
      return 2;
    }
    process.stderr.write(`int8-detect ${command.name}: ${cliMessage(err)}\n`);
    if (process.env.INT8_DETECT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof Int8DetectError || err instanceof CommandFailure ? 1 : 3;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`int8-detect: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
