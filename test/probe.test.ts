import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cpuInfo, NO_CPU_FEATURES, parseCpuInfo, type CpuFeatures } from '../lib/hardware/cpu';
import { Int8DetectError } from '../lib/util/errors';
import { detectJetson, parseNvTegraRelease } from '../lib/hardware/jetson';
import { loadCoreAddon, type NativeCudaProbe } from '../lib/native/core-addon';
import { runtimeStatusSync } from './helpers/runtime-status';
import { chooseBackend, probe, type BackendChoice, type ProbeReport } from '../lib/probe';

// With the OpenVINO module built (npm run setup:openvino, as CI does) 'auto' picks OpenVINO before ONNX Runtime.
const openVinoStatus = runtimeStatusSync('openvino');
const openVinoLoaded = openVinoStatus.loaded;
const autoCpuBackend = openVinoLoaded ? 'openvino' : 'onnxruntime';

const run = promisify(execFile);

const noFeatures: CpuFeatures = NO_CPU_FEATURES;

// ---------------------------------------------------------------- /proc/cpuinfo samples

function x86CpuInfo(model: string, flags: string, processors: number): string {
  const blocks: string[] = [];
  for (let i = 0; i < processors; i++) {
    blocks.push(
      [`processor\t: ${i}`, 'vendor_id\t: GenuineIntel', 'cpu family\t: 6', `model name\t: ${model}`, `flags\t\t: ${flags}`, 'bogomips\t: 4800.00'].join(
        '\n',
      ),
    );
  }
  return `${blocks.join('\n\n')}\n`;
}

const epyc7763Flags =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext ' +
  'fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni pclmulqdq monitor ssse3 ' +
  'fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm cr8_legacy abm sse4a ' +
  'misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 ' +
  'cdp_l3 invpcid_single hw_pstate ssbd mba ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a ' +
  'rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc clzero irperf xsaveerptr ' +
  'rdpru wbnoinvd arat npt lbrv svm_lock nrip_save umip pku ospke vaes vpclmulqdq rdpid overflow_recov succor smca fsrm';

const epyc9654Flags =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext ' +
  'fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt ' +
  'aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy abm sse4a misalignsse 3dnowprefetch topoext fsgsbase bmi1 avx2 ' +
  'smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl ' +
  'xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr rdpru wbnoinvd arat avx512vbmi umip pku ospke avx512_vbmi2 ' +
  'gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm';

const sapphireRapidsFlags =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe ' +
  'syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf ' +
  'tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 ' +
  'x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l3 cat_l2 ' +
  'cdp_l3 invpcid_single intel_ppin cdp_l2 ssbd mba ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 hle avx2 smep ' +
  'bmi2 erms invpcid rtm cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb intel_pt avx512cd sha_ni ' +
  'avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local split_lock_detect ' +
  'avx_vnni avx512_bf16 wbnoinvd dtherm ida arat pln pts hfi avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes ' +
  'vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq la57 rdpid bus_lock_detect cldemote movdiri movdir64b enqcmd ' +
  'fsrm md_clear serialize tsxldtrk pconfig arch_lbr ibt amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities';

function armCpuInfo(features: string, part: string, processors: number): string {
  const blocks: string[] = [];
  for (let i = 0; i < processors; i++) {
    blocks.push(
      [
        `processor\t: ${i}`,
        'model name\t: ARMv8 Processor rev 1 (v8l)',
        'BogoMIPS\t: 62.50',
        `Features\t: ${features}`,
        'CPU implementer\t: 0x41',
        'CPU architecture: 8',
        'CPU variant\t: 0x1',
        `CPU part\t: ${part}`,
        'CPU revision\t: 1',
      ].join('\n'),
    );
  }
  return `${blocks.join('\n\n')}\n`;
}

const cortexA78Features =
  'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp uscat ilrcpc flagm paca pacg';
const neoverseV1Features =
  'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp ' +
  'sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng';

test('cpuInfo: an AVX2-only AMD EPYC has no VNNI, so INT8 may not beat FP32', (t) => {
  const info = parseCpuInfo(x86CpuInfo('AMD EPYC 7763 64-Core Processor', epyc7763Flags, 4), 'x64');
  t.is(info.model, 'AMD EPYC 7763 64-Core Processor');
  t.is(info.architecture, 'x64');
  t.is(info.cores, 4);
  t.true(info.featuresKnown);
  t.deepEqual(info.features, { ...noFeatures, avx2: true });
  t.is(info.int8Summary, 'AVX2, no VNNI: INT8 may not beat FP32');
});

test('cpuInfo: an AVX-512 VNNI + BF16 EPYC (Zen 4) has fast INT8 kernels', (t) => {
  const info = parseCpuInfo(x86CpuInfo('AMD EPYC 9654 96-Core Processor', epyc9654Flags, 2), 'x64');
  t.is(info.cores, 2);
  t.deepEqual(info.features, { ...noFeatures, avx2: true, avx512f: true, avx512Vnni: true, avx512Bf16: true });
  t.is(info.int8Summary, 'AVX-512 VNNI: INT8 kernels fast');
});

test('cpuInfo: Sapphire Rapids has AMX-INT8, AMX-BF16 and AVX-VNNI', (t) => {
  const info = parseCpuInfo(x86CpuInfo('Intel(R) Xeon(R) Platinum 8480+', sapphireRapidsFlags, 8), 'x64');
  t.is(info.model, 'Intel(R) Xeon(R) Platinum 8480+');
  t.is(info.cores, 8);
  t.deepEqual(info.features, {
    ...noFeatures,
    avx2: true,
    avx512f: true,
    avx512Vnni: true,
    avxVnni: true,
    avx512Bf16: true,
    amxInt8: true,
    amxBf16: true,
  });
  t.regex(info.int8Summary, /AMX-INT8/);
});

test('cpuInfo: an ARM Cortex-A78 is named by its part number and has asimddp', (t) => {
  const info = parseCpuInfo(armCpuInfo(cortexA78Features, '0xd41', 6), 'arm64');
  t.is(info.model, 'ARM Cortex-A78', 'the generic "ARMv8 Processor" model name gives way to the part name');
  t.is(info.architecture, 'arm64');
  t.is(info.cores, 6);
  t.deepEqual(info.features, { ...noFeatures, neonDot: true });
  t.is(info.int8Summary, 'ARM dot-product (asimddp): INT8 kernels fast');
});

test('cpuInfo: a Neoverse-V1 has i8mm and SVE; an unknown ARM part is named by its numbers', (t) => {
  const v1 = parseCpuInfo(armCpuInfo(neoverseV1Features, '0xd40', 1), 'arm64');
  t.is(v1.model, 'ARM Neoverse-V1');
  t.deepEqual(v1.features, { ...noFeatures, neonDot: true, i8mm: true, sve: true });
  t.regex(v1.int8Summary, /i8mm/);
  const unknown = parseCpuInfo(armCpuInfo('fp asimd', '0xfff', 1), 'arm64');
  t.is(unknown.model, 'ARM implementer 0x41 part 0xfff');
  t.is(unknown.int8Summary, 'ARM NEON without dot-product: INT8 may not beat FP32');
});

test('cpuInfo: text without a flags or Features line leaves the features unknown', (t) => {
  const info = parseCpuInfo('processor\t: 0\nmodel name\t: Mystery CPU\n', 'x64');
  t.false(info.featuresKnown);
  t.deepEqual(info.features, noFeatures);
  t.regex(info.int8Summary, /unknown/);
});

test('cpuInfo: this machine, checked against the raw /proc/cpuinfo and os.cpus()', (t) => {
  const info = cpuInfo();
  t.is(info.architecture, process.arch);
  t.true(info.model.length > 0);
  // os.cpus() reads /proc/stat on Linux: an independent count of logical processors.
  t.is(info.cores, os.cpus().length);
  if (process.platform !== 'linux') {
    t.false(info.featuresKnown);
    return;
  }
  const raw = fs.readFileSync('/proc/cpuinfo', 'utf8');
  t.true(info.featuresKnown);
  const firstFlags = /^(?:flags|Features)\s*:(.*)$/m.exec(raw)?.[1] ?? '';
  t.is(info.features.avx2, /\savx2(\s|$)/.test(firstFlags));
  t.is(info.features.avx512Vnni, /\savx512_vnni(\s|$)/.test(firstFlags));
  t.is(info.features.neonDot, /\sasimddp(\s|$)/.test(firstFlags));
  t.true(info.int8Summary.length > 0);
});

// ---------------------------------------------------------------- Jetson

function fakeRoot(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-root-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

test('detectJetson: the device-tree model (NUL-terminated) and the L4T release', (t) => {
  const root = fakeRoot({
    'proc/device-tree/model': 'NVIDIA Jetson Orin Nano Developer Kit\0',
    'proc/device-tree/compatible': 'nvidia,p3768-0000+p3767-0005\0nvidia,p3767-0005\0nvidia,tegra234\0',
    'etc/nv_tegra_release': '# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025\n',
  });
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  t.deepEqual(detectJetson(root), { model: 'NVIDIA Jetson Orin Nano Developer Kit', l4tRelease: '36.4.3' });
});

test('detectJetson: a Tegra board recognised by compatible, without nv_tegra_release', (t) => {
  const root = fakeRoot({
    'proc/device-tree/model': 'Custom Carrier Board\0',
    'proc/device-tree/compatible': 'vendor,carrier\0nvidia,tegra194\0',
  });
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  t.deepEqual(detectJetson(root), { model: 'Custom Carrier Board', l4tRelease: null });
});

test('detectJetson: other device trees and no device tree are not Jetsons', (t) => {
  const pi = fakeRoot({
    'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.4\0',
    'proc/device-tree/compatible': 'raspberrypi,4-model-b\0brcm,bcm2711\0',
  });
  const empty = fakeRoot({});
  t.teardown(() => {
    fs.rmSync(pi, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  });
  t.is(detectJetson(pi), null);
  t.is(detectJetson(empty), null);
});

test('detectJetson: this machine', (t) => {
  const modelFile = '/proc/device-tree/model';
  if (!fs.existsSync(modelFile)) {
    t.is(detectJetson(), null);
    return;
  }
  const model = fs.readFileSync(modelFile, 'utf8').replace(/\0+$/, '');
  t.is(detectJetson()?.model ?? null, /jetson/i.test(model) ? model : null);
});

test('parseNvTegraRelease: major and revision, or null for other text', (t) => {
  t.is(parseNvTegraRelease('# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64'), '35.4.1');
  t.is(parseNvTegraRelease('# R32 (release), REVISION: 7.4'), '32.7.4');
  t.is(parseNvTegraRelease('not a release file'), null);
});

// ---------------------------------------------------------------- probe() and the 'auto' choice on this machine

// The character device every NVIDIA driver creates: an independent sign of whether a driver is present.
const nvidiaDriverPresent = fs.existsSync('/dev/nvidiactl');

test('cudaProbe: unavailable without an NVIDIA driver, with a reason naming libcuda', (t) => {
  const cuda = loadCoreAddon().cudaProbe();
  if (nvidiaDriverPresent) {
    t.true(cuda.available, cuda.reason);
    t.true(cuda.devices.length > 0);
    return;
  }
  t.false(cuda.available);
  t.regex(cuda.reason ?? '', /libcuda/);
  t.deepEqual(cuda.devices, []);
  t.deepEqual(loadCoreAddon().cudaProbe(), cuda, 'the second call returns the same cached result');
});

test('probe: onnxruntime available with its version; openvino available where built, else a reason; tensorrt unavailable with a reason', async (t) => {
  const report = await probe();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  t.deepEqual(report.backends.onnxruntime, { available: true, version: ortVersion, devices: ['cpu'] });
  if (openVinoLoaded) {
    t.true(report.backends.openvino.available);
    t.is(report.backends.openvino.version, openVinoStatus.version);
    t.regex(report.backends.openvino.devices[0] ?? '', /^CPU \(.*; /, 'CPU with its full name and INT8 features');
  } else {
    t.false(report.backends.openvino.available);
    t.regex(report.backends.openvino.reason ?? '', /int8_detect_openvino\.node.*npm run build:native/);
  }
  t.false(report.backends.tensorrt.available);
  t.regex(report.backends.tensorrt.reason ?? '', /int8_detect_tensorrt\.node/);
  t.true(report.backends.tensorrt.reason?.includes(nvidiaDriverPresent ? 'NVIDIA GPU' : 'no NVIDIA driver found'));
  t.is(report.platform, process.platform);
  t.is(report.arch, process.arch);
  t.is(report.node, process.versions.node);
  t.deepEqual(report.cuda, loadCoreAddon().cudaProbe());
  t.deepEqual(report.cpu, cpuInfo());
  t.deepEqual(report.jetson, detectJetson());
});

test('probe: cached per process, refreshed on request, frozen, options checked', async (t) => {
  const first = await probe();
  t.is(await probe(), first);
  const refreshed = await probe({ refresh: true });
  t.not(refreshed, first);
  t.deepEqual(refreshed, first);
  t.is(await probe(), refreshed);
  t.true(Object.isFrozen(first.backends.onnxruntime.devices));
  t.throws(() => probe({ refresh: 'yes' as unknown as boolean }), {
    instanceOf: Int8DetectError,
    message: 'Expected a boolean for options.refresh but received "yes" (string)',
  });
});

test("chooseBackend('auto') on this machine picks OpenVINO where built, else onnxruntime, and says why the others were skipped", async (t) => {
  const report = await probe();
  const choice = chooseBackend(report, 'auto');
  t.is(choice.backend, autoCpuBackend);
  if (openVinoLoaded) {
    t.true(choice.reason.startsWith(`Using OpenVINO ${report.backends.openvino.version} on CPU (`), choice.reason);
  } else {
    t.true(choice.reason.startsWith(`Using ONNX Runtime ${report.backends.onnxruntime.version} on cpu.`), choice.reason);
    t.true(choice.reason.includes(`Skipped OpenVINO: ${report.backends.openvino.reason}`), choice.reason);
  }
  t.true(choice.reason.includes(`Skipped TensorRT: ${report.backends.tensorrt.reason}`), choice.reason);
  t.deepEqual(chooseBackend(report), choice, "'auto' is the default");
});

test("chooseBackend('tensorrt') throws ERR_BACKEND_UNAVAILABLE with TensorRT's reason", async (t) => {
  const report = await probe();
  const err = t.throws(() => chooseBackend(report, 'tensorrt'), { instanceOf: Int8DetectError });
  t.is(err?.code, 'ERR_BACKEND_UNAVAILABLE');
  t.true(err?.message.includes(report.backends.tensorrt.reason ?? '<no reason>'), err?.message);
  t.is(chooseBackend(report, 'onnxruntime').backend, 'onnxruntime');
  const bad = t.throws(() => chooseBackend(report, 'cuda' as 'auto'), { instanceOf: Int8DetectError });
  t.is(bad?.code, 'ERR_ARGUMENT');
  t.regex(bad?.message ?? '', /for backend but received "cuda"/);
});

// ---------------------------------------------------------------- chooseBackend on reports from other machines

/** A report naming only some backends (the others, such as a server backend, are not in play). */
function reportWith(backends: Partial<ProbeReport['backends']>): ProbeReport {
  return { backends: backends as ProbeReport['backends'], core: { reason: 'test' }, cpu: cpuInfo(), cuda: { available: false, reason: 'test', devices: [] }, jetson: null, platform: 'linux', arch: 'x64', node: '20' };
}

test("chooseBackend('auto'): TensorRT first when it sees a GPU, skipped when it sees none", (t) => {
  const onnxruntime = { available: true, version: '1.30.0', devices: ['cpu'] };
  const gpuMachine = reportWith({
    tensorrt: { available: true, version: '10.3.0', devices: ['NVIDIA H100'] },
    openvino: { available: true, version: '2025.2', devices: ['CPU'] },
    onnxruntime,
  });
  const first: BackendChoice = chooseBackend(gpuMachine);
  t.is(first.backend, 'tensorrt');
  t.is(first.reason, 'Using TensorRT 10.3.0 on NVIDIA H100, the first choice in priority order.');
  const noGpu = reportWith({
    tensorrt: { available: true, version: '10.3.0', devices: [] },
    openvino: { available: true, version: '2025.2', devices: ['CPU', 'GPU'] },
    onnxruntime,
  });
  const second = chooseBackend(noGpu);
  t.is(second.backend, 'openvino');
  t.is(second.reason, 'Using OpenVINO 2025.2 on CPU, GPU. Skipped TensorRT: it loaded but sees no device to run on.');
});

test('chooseBackend: no usable backend throws one error listing every reason', (t) => {
  const none = reportWith({
    tensorrt: { available: false, reason: 'reason T', devices: [] },
    openvino: { available: false, reason: 'reason O', devices: [] },
    onnxruntime: { available: false, reason: 'reason R', devices: [] },
  });
  const err = t.throws(() => chooseBackend(none), { instanceOf: Int8DetectError });
  t.is(err?.code, 'ERR_BACKEND_UNAVAILABLE');
  t.is(err?.message, 'No backend can run here. Skipped TensorRT: reason T. Skipped OpenVINO: reason O. Skipped ONNX Runtime: reason R.');
});

// ---------------------------------------------------------------- the native probe against fake CUDA drivers

// A stand-in libcuda.so.1: the driver API's C ABI, with behaviour chosen by macros at compile time.
const fakeCudaSource = String.raw`
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __cplusplus
extern "C" {
#endif
int cuInit(unsigned int flags) {
  const char* log = getenv("FAKE_CUDA_LOG");
  if (log != NULL) { FILE* f = fopen(log, "a"); if (f != NULL) { fputs("cuInit\n", f); fclose(f); } }
  return flags == 0 ? FAKE_INIT_RESULT : 1;
}
#ifndef FAKE_ONLY_INIT
int cuDriverGetVersion(int* version) { *version = 12040; return 0; }
int cuDeviceGetCount(int* count) { *count = FAKE_DEVICE_COUNT; return 0; }
int cuDeviceGet(int* device, int ordinal) { if (ordinal >= FAKE_DEVICE_COUNT) return 101; *device = ordinal; return 0; }
int cuDeviceGetName(char* name, int length, int device) { (void)device; strncpy(name, "Fake GPU", (size_t)length); return 0; }
int cuDeviceGetAttribute(int* value, int attribute, int device) {
  (void)device;
  switch (attribute) {
    case 75: *value = 8; return 0;
    case 76: *value = 7; return 0;
    case 16: *value = 16; return 0;
    default: return 1;
  }
}
int cuDeviceTotalMem_v2(size_t* bytes, int device) { (void)device; *bytes = (size_t)8 << 30; return 0; }
#endif
#ifdef FAKE_ERROR_NAMES
int cuGetErrorName(int error, const char** text) { *text = error == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN"; return 0; }
int cuGetErrorString(int error, const char** text) { *text = error == 100 ? "no CUDA-capable device is detected" : "unknown error"; return 0; }
#endif
#ifdef __cplusplus
}
#endif
`;

const gxxMissing = spawnSync('g++', ['--version']).status !== 0;
const fakeSkipReason =
  process.platform !== 'linux' ? `fake libcuda tests need Linux (this is ${process.platform})` : gxxMissing ? 'fake libcuda tests need g++, which is missing' : undefined;
if (fakeSkipReason !== undefined) console.log(`Skipping: ${fakeSkipReason}`);
const fakeDriverTest = fakeSkipReason === undefined ? test : test.skip;

const fakeDirs: string[] = [];
test.after.always(() => {
  for (const dir of fakeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function buildFakeCuda(defines: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-fake-cuda-'));
  fakeDirs.push(dir);
  const source = path.join(dir, 'fake_cuda.c');
  fs.writeFileSync(source, fakeCudaSource);
  await run('g++', ['-x', 'c', '-shared', '-fPIC', '-o', path.join(dir, 'libcuda.so.1'), source, ...defines.map((d) => `-D${d}`)]);
  return dir;
}

interface ChildProbe {
  first: NativeCudaProbe;
  second: NativeCudaProbe;
  report: ProbeReport;
  choice: BackendChoice;
}

/** Probe in a fresh Node process that finds the fake driver first on its library path. */
async function probeWithFakeDriver(dir: string, logFile?: string): Promise<ChildProbe> {
  const script = `
    const { loadCoreAddon } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native', 'core-addon.js'))});
    const { probe, chooseBackend } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'probe.js'))});
    (async () => {
      const first = loadCoreAddon().cudaProbe();
      const second = loadCoreAddon().cudaProbe();
      await probe();
      const report = await probe({ refresh: true });
      process.stdout.write(JSON.stringify({ first, second, report, choice: chooseBackend(report, 'auto') }));
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const env: NodeJS.ProcessEnv = { ...process.env, LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  if (logFile !== undefined) env.FAKE_CUDA_LOG = logFile;
  const { stdout } = await run(process.execPath, ['-e', script], { env });
  return JSON.parse(stdout) as ChildProbe;
}

fakeDriverTest('fake driver, cuInit -> CUDA_ERROR_NO_DEVICE: the reason names the call, the error and its text', async (t) => {
  const dir = await buildFakeCuda(['FAKE_INIT_RESULT=100', 'FAKE_DEVICE_COUNT=0', 'FAKE_ERROR_NAMES']);
  const { first, second, report } = await probeWithFakeDriver(dir);
  t.deepEqual(first, {
    available: false,
    reason: 'libcuda.so.1 loaded, but cuInit failed with CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected',
    library: 'libcuda.so.1',
    driverVersion: 12040,
    devices: [],
  });
  t.deepEqual(second, first);
  t.true(report.backends.tensorrt.reason?.includes(`CUDA probe: ${first.reason}`), report.backends.tensorrt.reason);
});

fakeDriverTest('fake driver without cuGetErrorName: the reason still gives the error code', async (t) => {
  const dir = await buildFakeCuda(['FAKE_INIT_RESULT=999', 'FAKE_DEVICE_COUNT=0']);
  const { first } = await probeWithFakeDriver(dir);
  t.false(first.available);
  t.is(first.reason, 'libcuda.so.1 loaded, but cuInit failed with error 999');
});

fakeDriverTest('fake driver with zero devices: unavailable, saying so', async (t) => {
  const dir = await buildFakeCuda(['FAKE_INIT_RESULT=0', 'FAKE_DEVICE_COUNT=0']);
  const { first } = await probeWithFakeDriver(dir);
  t.false(first.available);
  t.is(first.reason, 'libcuda.so.1 loaded and initialised, but it reports no CUDA devices');
  t.deepEqual(first.devices, []);
});

fakeDriverTest('fake library missing driver symbols: unavailable, naming them', async (t) => {
  const dir = await buildFakeCuda(['FAKE_INIT_RESULT=0', 'FAKE_DEVICE_COUNT=0', 'FAKE_ONLY_INIT']);
  const { first } = await probeWithFakeDriver(dir);
  t.false(first.available);
  t.is(
    first.reason,
    'libcuda.so.1 is not a usable CUDA driver: it does not export cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, ' +
      'cuDeviceGetName, cuDeviceGetAttribute, cuDeviceTotalMem_v2',
  );
});

fakeDriverTest('fake driver with one "Fake GPU" (8.7): name, compute capability, memory; probed once per process', async (t) => {
  const dir = await buildFakeCuda(['FAKE_INIT_RESULT=0', 'FAKE_DEVICE_COUNT=1']);
  const log = path.join(dir, 'calls.log');
  const { first, second, report, choice } = await probeWithFakeDriver(dir, log);
  t.deepEqual(first, {
    available: true,
    library: 'libcuda.so.1',
    driverVersion: 12040,
    devices: [{ index: 0, name: 'Fake GPU', computeCapability: '8.7', totalMemoryBytes: 8 * 1024 ** 3, multiprocessors: 16 }],
  });
  t.deepEqual(second, first);
  t.deepEqual(report.cuda, first);
  t.is(fs.readFileSync(log, 'utf8'), 'cuInit\n', 'two cudaProbe() calls and two probe() runs initialise the driver once');
  t.true(
    report.backends.tensorrt.reason?.endsWith(
      'CUDA probe: 1 NVIDIA GPU found (driver API 12.4): Fake GPU (compute capability 8.7, 8.0 GiB)',
    ),
    report.backends.tensorrt.reason,
  );
  // The GPU alone is not enough: without the TensorRT module, 'auto' still falls through (to OpenVINO where built).
  t.is(choice.backend, autoCpuBackend);
  t.true(choice.reason.includes('Fake GPU'), choice.reason);
});
