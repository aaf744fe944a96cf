/**
 * The CLI's names for library options, so that errors raised by the library read as CLI
 * messages: `family: 'yolox' | 'yolov5'` becomes `--family yolox|yolov5`, `ffmpegPath` becomes
 * `--ffmpeg PATH`. The library marks the option names in its messages (Int8DetectError's
 * messageFor); nothing here rewrites message text.
 */
import { libraryOptionSpeller, type OptionSpeller } from '../util/errors';

/**
 * Library option (last path segment) -> the flag. A flag is written bare ("--threads"), except
 * where the library option is a thing to give rather than a value to set (calibrator: "--calibration DIR").
 */
const FLAGS: Record<string, string> = {
  family: '--family',
  outputLayout: '--output-layout',
  labels: '--labels',
  calibrator: '--calibration DIR',
  precision: '--precision',
  threads: '--threads',
  concurrency: '--concurrency',
  device: '--device',
  backend: '--backend',
  model: '--model',
  ffmpegPath: '--ffmpeg',
  maxRetries: '--max-retries',
  maxFps: '--max-fps',
  rtspTransport: '--rtsp-transport',
  hwaccel: '--hwaccel',
  scoreThreshold: '--score-threshold',
  iouThreshold: '--iou-threshold',
  maxDetections: '--max-detections',
  classes: '--classes',
  maxDrop: '--max-drop',
  inferencePrecision: '--inference-precision',
  performanceHint: '--performance-hint',
};

/** 'sources[0].ffmpegPath' -> 'ffmpegPath', 'classes[3]' -> 'classes', 'options.threads' -> 'threads'. */
function lastSegment(option: string): string {
  const withoutIndex = option.replace(/\[\d+\]$/, '');
  const dot = withoutIndex.lastIndexOf('.');
  return dot < 0 ? withoutIndex : withoutIndex.slice(dot + 1);
}

/** The flag for an option, or undefined when the CLI has none. */
export function flagFor(option: string): string | undefined {
  return FLAGS[lastSegment(option)]?.split(' ')[0];
}

/** Writes options as flags (values as the flag takes them); an option with no flag keeps the library's spelling. */
export const cliOptionSpeller: OptionSpeller = (option, values) => {
  const flag = FLAGS[lastSegment(option)];
  if (flag === undefined) return libraryOptionSpeller(option, values);
  return values && values.length > 0 ? `${flag.split(' ')[0]} ${values.join('|')}` : flag;
};
