/**
 * A name for a calibration data set, for the plan cache: the same images (names, sizes, times of
 * change) under the same preprocessing and limit give the same id, so a calibrated plan is reused
 * until the folder or the settings change.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { listImages } from '../../util/files';
import { canonicalJson, sha256 } from '../../util/hash';

export async function folderCalibrationId(dir: string, settings: Record<string, unknown>): Promise<string> {
  const files = await listImages(dir);
  const entries = await Promise.all(
    files.map(async (file) => {
      const stat = await fs.stat(file);
      return [path.basename(file), stat.size, Math.round(stat.mtimeMs)];
    }),
  );
  return `folder:${sha256(canonicalJson({ entries, settings })).slice(0, 32)}`;
}
