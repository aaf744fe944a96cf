/**
 * `int8-detect build-native`: native modules built from the package's sources. Which modules exist
 * and what each needs come from the registered runtimes' recipes (NativeBuildRecipe), plus the core.
 */
import { buildNativeTargets, type NativeBuildTarget } from '../../native/build';
import '../../runtimes/builtin';
import { registeredBackends } from '../../runtimes/registry';
import { parseCommandArgs, parseNumber, UsageError } from '../args';
import type { Command } from '../command';

const CORE = 'core';

function recipes() {
  return registeredBackends().flatMap((d) => (d.nativeBuild ? [d.nativeBuild] : []));
}

function help(): string {
  const all = recipes();
  const modules = [...all.map((r) => r.module), CORE];
  const defaults = all.filter((r) => r.byDefault).map((r) => r.module);
  const flags = all.flatMap((r) => Object.entries(r.flags)).map(([flag, text]) => `      --${flag.padEnd(18)} ${text}`);
  return `Usage: int8-detect build-native [--module ${modules.join('|')} ...] [options]

Builds native modules from the C++ sources shipped in the package into build/Release inside the
int8-detect package, where int8-detect finds them, then loads each once in a child process. Checks
what each needs first and names what is missing. Needs CMake 3.19 or later and a C++17 compiler.
'npm rebuild int8-detect --build-from-source' runs the same with no options.

By default: ${defaults.join(', ')}, against what is installed here. The core addon and OpenVINO come
prebuilt in the platform package; build them only on a platform that has none.

Options:
      --module M           ${modules.join(', ')} (default: ${defaults.join(', ')}); repeatable
${flags.join('\n')}
      --jobs N             parallel compile jobs
  -h, --help               show this help`;
}

export const buildNativeCommand: Command = {
  name: 'build-native',
  summary: 'build the TensorRT module (or, where no platform package exists, the others) from source',
  get help() {
    return help();
  },
  async run(argv) {
    const all = recipes();
    const flagSpec = Object.fromEntries(all.flatMap((r) => Object.keys(r.flags)).map((flag) => [flag, { type: 'string' as const }]));
    const { values } = parseCommandArgs(argv, { module: { type: 'string', multiple: true }, jobs: { type: 'string' }, ...flagSpec }, false);
    const known = [...all.map((r) => r.module), CORE];
    const requested = (values.module as unknown as string[] | undefined) ?? all.filter((r) => r.byDefault).map((r) => r.module);
    for (const name of requested) if (!known.includes(name)) throw new UsageError(`--module expects ${known.join(', ')}, got ${name}`);
    const flagValues = Object.fromEntries(Object.keys(flagSpec).map((flag) => [flag, values[flag] as string | undefined]));
    // Every prerequisite is checked before the first compiler runs.
    const targets: NativeBuildTarget[] = [...new Set(requested)].map((module) => {
      if (module === CORE) return { module, defines: {} };
      const prepared = all.find((r) => r.module === module)!.prepare(flagValues);
      process.stderr.write(`build-native: ${module}: ${prepared.summary}\n`);
      return { module, defines: prepared.defines };
    });
    const files = await buildNativeTargets(targets, { jobs: parseNumber(values.jobs, '--jobs', { integer: true, min: 1 }) });
    for (const file of files) process.stdout.write(`build-native: built ${file}\n`);
    process.stdout.write("build-native: 'int8-detect probe' shows which module each backend loads\n");
  },
};
