/**
 * The live cross-checks against pycocotools, in one place: they run where the project's .venv has
 * pycocotools (scripts/setup-python.sh), and are skipped with the reason everywhere else, including
 * a .venv that exists without it (the state `npm run setup:openvino` alone leaves).
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../lib/util/package';

export const venvPython = path.join(packageRoot, '.venv', 'bin', 'python');
export const referenceScript = path.join(packageRoot, 'scripts', 'coco_reference.py');

let reason: string | null | undefined;

/** Why the pycocotools checks cannot run here, or undefined when they can (asked once per process). */
export function pycocotoolsSkipReason(): string | undefined {
  if (reason === undefined) {
    if (!existsSync(venvPython)) {
      reason = `${venvPython} not found (run scripts/setup-python.sh)`;
    } else {
      const probe = spawnSync(venvPython, ['-c', 'import pycocotools.cocoeval'], { encoding: 'utf8', timeout: 60_000 });
      reason =
        probe.status === 0
          ? null
          : `pycocotools does not import in ${venvPython} (run scripts/setup-python.sh): ${(probe.stderr || String(probe.error)).trim().split('\n').pop()}`;
    }
  }
  return reason ?? undefined;
}

/** A test that needs pycocotools: declared skipped, with the reason in its title, where it cannot run. */
export function pycocotoolsTest(title: string, implementation: (t: ExecutionContext) => Promise<void>): void {
  const why = pycocotoolsSkipReason();
  if (why === undefined) {
    test(title, implementation);
  } else {
    console.log(`skipping '${title}': ${why}`);
    test.skip(`${title} (skipped: ${why})`, implementation);
  }
}

/** pycocotools' scores of a COCO results file (scripts/coco_reference.py --json), optionally on some images only. */
export function pycocotoolsScores(annotations: string, detections: string, imageIds?: readonly number[]): { stats: number[]; mAP: number; AP50: number; AP75: number } {
  const args = [referenceScript, '--annotations', annotations, '--detections', detections, '--json', ...(imageIds ? ['--image-ids', imageIds.join(',')] : [])];
  const run = spawnSync(venvPython, args, { encoding: 'utf8', timeout: 180_000, maxBuffer: 16 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`coco_reference.py failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}
