/**
 * The one interface every runtime implements (onnxruntime-node's habit: a small Backend
 * interface, a registry in priority order, several implementations). A runtime is a folder under
 * lib/runtimes/ with a descriptor (name, priority, probe, open, capabilities, quantizer adapter)
 * and one registration line in lib/runtimes/builtin.ts; nothing outside its folder names it.
 */
import type { BinarySource } from '../native/binaries';
import type { ModelOverrides } from '../detect/profile';
import type { NativeCudaProbe } from '../native/core-addon';
import type { CpuInfo } from '../hardware/cpu';
import type { JetsonInfo } from '../hardware/jetson';
import type { ModelInfo } from '../onnx/model-info';
import type { QuantizerAdapter, StatisticsSessionOpener } from '../quantize/adapter';
import type { BackendOpenOptions, BackendSession } from './session';

export type * from './session';

/**
 * Each runtime adds its name here, with the type of its own option group in createEngine's
 * options (`openvino: { performanceHint }`), from its own folder by declaration merging:
 * `declare module '../backend' { interface BackendOptionsByName { openvino: OpenVinoBackendOptions } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface BackendOptionsByName {}

/** The registered runtimes' names. */
export type BackendName = Extract<keyof BackendOptionsByName, string>;

/** What a backend's probe reports: whether it can run here, on what, or why not. */
export interface BackendProbe {
  available: boolean;
  /** Why it cannot run here, when it cannot. */
  reason?: string;
  /** The runtime's version, when it loaded. */
  version?: string;
  /** Where it can run: 'cpu', GPU names, ... */
  devices: string[];
  /** Its native module, when it has one that loaded: the file and where it was found. */
  module?: NativeModuleOrigin;
}

export interface NativeModuleOrigin {
  file: string;
  /** 'platform-package', 'prebuilds', 'local-build' or 'environment'; absent for a file the caller named. */
  source?: BinarySource;
  /** The source in words: 'the platform package @int8-detect/linux-x64'. */
  from?: string;
}

/** What every backend probe may look at: the machine, found once for all of them. */
export interface ProbeContext {
  cuda: NativeCudaProbe;
  jetson: JetsonInfo | null;
  cpu: CpuInfo;
  /** Ask the runtime for its devices again (probe({ refresh: true })). */
  refresh: boolean;
  /** Option groups given to probe() (`probe({ triton: { url } })`): where a backend's server is. */
  settings: Partial<BackendOptionsByName>;
}

export interface BackendCapabilities {
  /** Ships inside the package and loads everywhere: the reference runtime for float statistics. */
  embedded: boolean;
  /**
   * Builds its own engine from the float model at the precision asked for (TensorRT: FP16, and
   * implicit INT8 from a calibrator or cache), so a float model with precision 'fp16'/'int8' is
   * handed over as it is rather than quantized or refused.
   */
  buildsFromFloat: boolean;
  /** precision 'auto' with a calibrator times FP32 against INT8 on the device and serves the faster that passes. */
  measuresPrecision: boolean;
}

/** A model file the backend reads itself (an OpenVINO IR), described without its weights. */
export interface BackendModelFile {
  /** The path the backend opens. */
  path: string;
  info: ModelInfo;
  /** It holds quantized layers (FakeQuantize): it runs in INT8. */
  quantized: boolean;
}

/** A model a server holds, opened by its backend (openServed): the session, and the model described in place of a file. */
export interface ServedModel {
  session: BackendSession;
  /** The model as the server describes it: its inputs and outputs, its platform as producer. */
  info: ModelInfo;
  /** Where it is, for messages and engine.info.model.path: the server (credentials removed) and the model. */
  path: string;
  /** It runs quantized, as the server says. */
  quantized: boolean;
  /** The detector profile the server keeps with the model; the caller's options win over it, field by field. */
  overrides: ModelOverrides;
  /** Why this backend and this server, in words (engine.info.reasons.backend). */
  reason: string;
  /** Where the profile came from, in words (prefixed to engine.info.reasons.model). */
  profileSource: string;
}

/** The command-line flags of a backend's own options, for every command that opens an engine. */
export interface BackendCliFlags<Options> {
  /** node:util parseArgs specs, by flag name without the dashes. */
  flags: Record<string, { type: 'string' | 'boolean' }>;
  /** Help lines, aligned as the commands' own ("      --flag X   what it does"). */
  help: string;
  /** The option group from the parsed flags (undefined when none was given); throws ERR_ARGUMENT naming the flag on a bad value. */
  options(values: Record<string, unknown>): Options | undefined;
}

/** A runtime, as the registry knows it. */
export interface BackendDescriptor<Name extends BackendName = BackendName> {
  readonly name: Name;
  /** The runtime's name in messages: 'ONNX Runtime'. */
  readonly title: string;
  /** Backend 'auto' tries the highest first. */
  readonly priority: number;
  readonly capabilities: BackendCapabilities;
  /** Never throws: a runtime that cannot run here is a reason. */
  probe(context: ProbeContext): Promise<BackendProbe>;
  /** Checks this backend's own option group (createEngine's `options[name]`); throws ERR_ARGUMENT naming the bad field. */
  checkOptions?(value: unknown): void;
  open(options: BackendOpenOptions & { settings?: BackendOptionsByName[Name] }): Promise<BackendSession>;
  /** A model path only this backend reads (an OpenVINO IR .xml): backend 'auto' then picks it. */
  readsModelFile?(model: string): boolean;
  /** Checks and describes such a file (never reading the weights). */
  readModelFile?(model: string): Promise<BackendModelFile>;
  /** How a float model becomes this backend's INT8 artefact, when it can (precision 'int8' with a calibrator). */
  readonly quantizer?: QuantizerAdapter;
  /** Runs a float model with extra outputs for calibration statistics, where this runtime can. */
  statisticsSession?(threads: number): StatisticsSessionOpener;
  /**
   * A backend whose models live on a server (Triton, KServe v2): `model` names one there, and the
   * backend opens it itself. Nothing is read or quantized here, and the local probe's verdict does
   * not decide (the server given in the options is checked at open); backend 'auto' never picks it.
   */
  openServed?(options: { model: string; concurrency: number; settings?: BackendOptionsByName[Name] }): Promise<ServedModel>;
  /** Its option group as command-line flags. */
  readonly cli?: BackendCliFlags<BackendOptionsByName[Name]>;
  /**
   * Where the device's default float precision may not be FP32 (OpenVINO: BF16 on CPUs that have
   * it), the option group that forces FP32; `bench --compare` times both.
   */
  readonly fullFloatSettings?: BackendOptionsByName[Name];
  /** How `int8-detect build-native` builds its native module from source, where it has one. */
  readonly nativeBuild?: NativeBuildRecipe;
}

/** A runtime's native module built from the package's sources (lib/native/build.ts runs CMake). */
export interface NativeBuildRecipe {
  /** The module's name: CMake target and file int8_detect_<module>.node. */
  readonly module: string;
  /** Built when `build-native` is given no --module (TensorRT: never prebuilt, always the user's own). */
  readonly byDefault: boolean;
  /** Its command-line flags (name without dashes -> help line), handed to prepare(). */
  readonly flags: Readonly<Record<string, string>>;
  /**
   * Checks what the build needs on this machine before any compiler runs: throws an Int8DetectError
   * naming what is missing and where it looked, or returns the CMake definitions and a summary line.
   */
  prepare(flags: Readonly<Record<string, string | undefined>>): { defines: Record<string, string>; summary: string };
}
