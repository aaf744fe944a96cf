/**
 * int8_detect_openvino.node, loaded lazily by the one optional-module loader (a trial load in a
 * child process first), never at require() of the package, so the core runs where OpenVINO is
 * absent. It links libopenvino, found through its RPATH.
 */
import { optionalModule, type OptionalModuleSpec } from '../../native/optional-module';
import { Int8DetectError } from '../../util/errors';
import type { NativeOpenVinoRuntimeInfo, OpenVinoAddon } from './native-types';

const SPEC: OptionalModuleSpec = {
  name: 'openvino',
  title: 'OpenVINO',
  buildHint: "run 'npm run setup:openvino' (installs the pinned OpenVINO wheel into .venv), then 'npm run build:native'",
  crashHint: 'the OpenVINO libraries cannot load here',
};

export interface OpenVinoModuleStatus {
  loaded: boolean;
  /** The module file tried. */
  file: string;
  /** Whether that file exists (false: not built here). */
  built: boolean;
  /** Why it cannot be used, when it cannot. */
  reason?: string;
  /** OpenVINO's version ('2026.4.1'), when it loaded. */
  version?: string;
  /** OpenVINO's full build number, when it loaded. */
  buildNumber?: string;
  addon?: OpenVinoAddon;
  info?: NativeOpenVinoRuntimeInfo;
}

/** '2026.4.1-22982-e213a147257-releases/2026/4' -> '2026.4.1' */
export function shortOpenVinoVersion(buildNumber: string): string {
  return /^\d+\.\d+\.\d+/.exec(buildNumber)?.[0] ?? buildNumber;
}

/** Tried once per file and process; `refresh` lists the devices again. */
export async function openVinoModuleStatus(options: { file?: string; refresh?: boolean } = {}): Promise<OpenVinoModuleStatus> {
  const status = await optionalModule<OpenVinoAddon, NativeOpenVinoRuntimeInfo>(SPEC, options);
  if (!status.loaded) return { loaded: false, file: status.file, built: status.built, reason: status.reason };
  const { buildNumber } = status.info;
  return { loaded: true, file: status.file, built: true, addon: status.addon, info: status.info, buildNumber, version: shortOpenVinoVersion(buildNumber) };
}

/** The loaded module, or ERR_BACKEND_UNAVAILABLE with the reason it is not. */
export async function loadOpenVinoModule(file?: string): Promise<{ addon: OpenVinoAddon; version: string }> {
  const status = await openVinoModuleStatus(file !== undefined ? { file } : {});
  if (!status.loaded || !status.addon) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `OpenVINO cannot run here: ${status.reason}`);
  return { addon: status.addon, version: status.version ?? 'unknown' };
}
