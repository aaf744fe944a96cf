/**
 * What the CPU offers for INT8: INT8 only beats FP32 where the CPU has integer dot-product
 * instructions (VNNI, AMX, ARM asimddp/i8mm), so the probe says which ones are present.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface CpuFeatures {
  avx2: boolean;
  avx512f: boolean;
  avx512Vnni: boolean;
  /** The 256-bit VEX-encoded VNNI of Alder Lake and later, without AVX-512. */
  avxVnni: boolean;
  avx512Bf16: boolean;
  amxInt8: boolean;
  amxBf16: boolean;
  /** ARM dot product (asimddp): SDOT/UDOT. */
  neonDot: boolean;
  /** ARM int8 matrix multiply (SMMLA). */
  i8mm: boolean;
  sve: boolean;
}

export interface CpuInfo {
  model: string;
  /** Node's name for it: 'x64', 'arm64', ... */
  architecture: string;
  /** Logical processors. */
  cores: number;
  features: CpuFeatures;
  /** False where the features could not be read (only Linux's /proc/cpuinfo is parsed): all false then. */
  featuresKnown: boolean;
  int8Summary: string;
}

// Arm Ltd (implementer 0x41) parts, from the Linux kernel's arch/arm64/include/asm/cputype.h.
const armParts: Readonly<Record<string, string>> = {
  '0xd03': 'Cortex-A53',
  '0xd05': 'Cortex-A55',
  '0xd07': 'Cortex-A57',
  '0xd08': 'Cortex-A72',
  '0xd09': 'Cortex-A73',
  '0xd0a': 'Cortex-A75',
  '0xd0b': 'Cortex-A76',
  '0xd0c': 'Neoverse-N1',
  '0xd0d': 'Cortex-A77',
  '0xd40': 'Neoverse-V1',
  '0xd41': 'Cortex-A78',
  '0xd42': 'Cortex-A78AE',
  '0xd44': 'Cortex-X1',
  '0xd46': 'Cortex-A510',
  '0xd47': 'Cortex-A710',
  '0xd49': 'Neoverse-N2',
  '0xd4b': 'Cortex-A78C',
  '0xd4f': 'Neoverse-V2',
};

/** Every feature absent: where /proc/cpuinfo cannot be read, and the base of the parsers. */
export const NO_CPU_FEATURES: Readonly<CpuFeatures> = {
  avx2: false,
  avx512f: false,
  avx512Vnni: false,
  avxVnni: false,
  avx512Bf16: false,
  amxInt8: false,
  amxBf16: false,
  neonDot: false,
  i8mm: false,
  sve: false,
};

/** The first value of each key: the first processor's block describes the CPU. */
function firstValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key !== '' && !values.has(key)) values.set(key, line.slice(colon + 1).trim());
  }
  return values;
}

function countProcessors(text: string): number {
  return text.split('\n').filter((line) => /^processor\s*:\s*\d+\s*$/.test(line)).length;
}

function armModel(values: Map<string, string>): string | undefined {
  const implementer = values.get('cpu implementer')?.toLowerCase();
  const part = values.get('cpu part')?.toLowerCase();
  if (implementer === undefined || part === undefined) return undefined;
  const known = implementer === '0x41' ? armParts[part] : undefined;
  return known !== undefined ? `ARM ${known}` : `ARM implementer ${implementer} part ${part}`;
}

/** One human line on what INT8 will be like on this CPU. */
export function int8Summary(features: CpuFeatures, featuresKnown: boolean, architecture: string): string {
  if (!featuresKnown) return `CPU features not read on ${process.platform}/${architecture}: INT8 speed unknown, measure it`;
  if (features.amxInt8) return 'AMX-INT8 and AVX-512 VNNI: INT8 kernels fast';
  if (features.avx512Vnni) return 'AVX-512 VNNI: INT8 kernels fast';
  if (features.avxVnni) return 'AVX-VNNI (256-bit): INT8 kernels fast';
  if (features.avx512f) return 'AVX-512, no VNNI: INT8 gains modest';
  if (features.avx2) return 'AVX2, no VNNI: INT8 may not beat FP32';
  if (features.i8mm) return 'ARM int8 matrix multiply (i8mm) and dot-product (asimddp): INT8 kernels fast';
  if (features.neonDot) return 'ARM dot-product (asimddp): INT8 kernels fast';
  if (architecture === 'arm64' || architecture === 'arm') return 'ARM NEON without dot-product: INT8 may not beat FP32';
  return 'no AVX2 or VNNI: INT8 likely slower than FP32';
}

/** Parse /proc/cpuinfo text: x86 kernels list a 'flags' line, ARM kernels a 'Features' line. */
export function parseCpuInfo(text: string, architecture: string = process.arch): CpuInfo {
  const values = firstValues(text);
  const flags = values.get('flags') ?? values.get('features');
  const featuresKnown = flags !== undefined;
  const present = new Set((flags ?? '').split(/\s+/).filter((flag) => flag !== ''));
  const features: CpuFeatures = {
    avx2: present.has('avx2'),
    avx512f: present.has('avx512f'),
    avx512Vnni: present.has('avx512_vnni'),
    avxVnni: present.has('avx_vnni'),
    avx512Bf16: present.has('avx512_bf16'),
    amxInt8: present.has('amx_int8'),
    amxBf16: present.has('amx_bf16'),
    neonDot: present.has('asimddp'),
    i8mm: present.has('i8mm'),
    sve: present.has('sve'),
  };
  // ARM kernels often name every core "ARMv8 Processor rev 1 (v8l)": the part number says more.
  const modelName = values.get('model name');
  const namedModel = modelName !== undefined && !/^ARMv\d/i.test(modelName) ? modelName : undefined;
  const model = namedModel ?? armModel(values) ?? modelName ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const counted = countProcessors(text);
  return {
    model,
    architecture,
    cores: counted > 0 ? counted : os.cpus().length,
    features,
    featuresKnown,
    int8Summary: int8Summary(features, featuresKnown, architecture),
  };
}

/** This machine's CPU: /proc/cpuinfo on Linux, os.cpus() (model and count only) elsewhere. */
export function cpuInfo(): CpuInfo {
  if (process.platform === 'linux') {
    try {
      return parseCpuInfo(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      // /proc hidden (some sandboxes): fall through to what Node reports.
    }
  }
  const cpus = os.cpus();
  const architecture = process.arch;
  return {
    model: cpus[0]?.model ?? 'unknown CPU',
    architecture,
    cores: cpus.length,
    features: { ...NO_CPU_FEATURES },
    featuresKnown: false,
    int8Summary: int8Summary(NO_CPU_FEATURES, false, architecture),
  };
}
