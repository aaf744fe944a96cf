/**
 * Recognises an NVIDIA Jetson: its GPU is integrated (TensorRT comes with JetPack), so it is
 * found by the board's device-tree model, not by a PCI device.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface JetsonInfo {
  /** The device-tree model, e.g. "NVIDIA Jetson Orin Nano Developer Kit". */
  model: string;
  /** The L4T (Linux for Tegra) release from /etc/nv_tegra_release, e.g. "35.4.1"; null when absent. */
  l4tRelease: string | null;
}

function readTextOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Device-tree strings end in NUL; `compatible` is a NUL-separated list. */
function deviceTreeStrings(raw: string): string[] {
  return raw
    .split('\0')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** "# R35 (release), REVISION: 4.1, GCID: ..." -> "35.4.1". */
export function parseNvTegraRelease(text: string): string | null {
  const major = /R(\d+)\s*\(release\)/.exec(text);
  if (!major) return null;
  const revision = /REVISION:\s*([\d.]+)/.exec(text);
  return revision ? `${major[1]}.${revision[1]}` : major[1];
}

/**
 * The Jetson this runs on, or null. `root` is the filesystem root to look under ('/' by default),
 * so tests can point it at a fake tree.
 */
export function detectJetson(root = '/'): JetsonInfo | null {
  const modelRaw = readTextOrNull(path.join(root, 'proc', 'device-tree', 'model'));
  if (modelRaw === null) return null;
  const model = deviceTreeStrings(modelRaw)[0] ?? '';
  // Some L4T releases give a board code name as the model; the SoC in `compatible` still says Tegra.
  const compatible = deviceTreeStrings(readTextOrNull(path.join(root, 'proc', 'device-tree', 'compatible')) ?? '');
  const isJetson = /jetson/i.test(model) || compatible.some((entry) => entry.startsWith('nvidia,tegra'));
  if (!isJetson) return null;
  const release = readTextOrNull(path.join(root, 'etc', 'nv_tegra_release'));
  return { model, l4tRelease: release === null ? null : parseNvTegraRelease(release) };
}
