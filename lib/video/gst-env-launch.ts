/**
 * Keeping a camera's credentials off the decoder's command line. A command line is visible to
 * every local user (ps, /proc/PID/cmdline); a process's environment only to its own user. GStreamer's
 * rtspsrc takes the user and password as properties (user-id, user-pw), so for a GStreamer source
 * whose URL carries secrets, scripts/gst-launch-env.py runs the pipeline from its environment and
 * sets them there. ffmpeg takes its input URL on its command line only: there is no such way for
 * it, and ffmpegCredentialsNote() says so (docs/video.md; for probe to print).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { packageRoot } from '../util/package';
import { config } from '../util/config';
import { gstreamerDescription } from './decoder-args';
import { splitCredentials, urlSecrets } from './redact';
import type { OutputFormat, SourceKind, SourceOptions } from './types';

export const GST_ENV_LAUNCHER = path.join(packageRoot, 'scripts', 'gst-launch-env.py');

/**
 * One sentence for probe (and docs/video.md): where a camera's credentials can be seen by other
 * local users, and what to do about it.
 */
export function ffmpegCredentialsNote(): string {
  return (
    "ffmpeg takes a camera's URL, credentials included, on its command line, where other local users can read it (ps); " +
    "where that matters, decode such sources with decoder: 'gstreamer' (with python3-gi installed), which passes them through its environment instead"
  );
}

/** Whether a source's URL carries anything secret (user info, a token in its query). */
export function hasCredentials(url: string): boolean {
  return urlSecrets(url).length > 0;
}

export interface EnvLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The command, arguments and environment that run a GStreamer source with its secrets in the environment only. */
export function gstreamerEnvLaunch(kind: SourceKind, options: SourceOptions, format: OutputFormat, python: string): EnvLaunch {
  const { url, user, password } = kind === 'rtsp' ? splitCredentials(options.url) : { url: options.url, user: undefined, password: undefined };
  return {
    command: python,
    args: [GST_ENV_LAUNCHER],
    env: {
      INT8_DETECT_GST_PIPELINE: gstreamerDescription(kind, options, format, url),
      ...(user !== undefined ? { INT8_DETECT_GST_USER_ID: user } : {}),
      ...(password !== undefined ? { INT8_DETECT_GST_USER_PW: password } : {}),
    },
  };
}

const checked = new Map<string, Promise<boolean>>();

/** Whether `python` has PyGObject with GStreamer (asked once per interpreter, in a child process). */
export function gstPythonAvailable(python: string): Promise<boolean> {
  let answer = checked.get(python);
  if (!answer) {
    answer = new Promise((resolve) => {
      const child = spawn(python, ['-c', "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst"], { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('error', () => resolve(false));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
    checked.set(python, answer);
  }
  return answer;
}

/** The first Python (config.gstPythonCandidates) that can run the launcher, or undefined. */
export async function gstPython(): Promise<string | undefined> {
  for (const python of config.gstPythonCandidates) if (await gstPythonAvailable(python)) return python;
  return undefined;
}
