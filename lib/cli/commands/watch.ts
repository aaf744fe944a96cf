/** `int8-detect watch`: detect objects on video files and cameras, as JSON lines or a live table. */
import { drawDetectionsRaw } from '../../image/draw';
import { createEngine } from '../../engine';
import { createPipeline, type DropPolicy } from '../../video/pipeline';
import { DEFAULT_MAX_DROP } from '../../quantize/mixed-precision';
import type { DetectionsEvent, PipelineStats, SourceOptions } from '../../video/types';
import { VideoWriter } from '../../video/video-writer';
import { engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, parseNumber, UsageError } from '../args';
import { detectFlags, detectFlagsHelp, detectOptionsFrom } from '../detect-flags';
import type { Command } from '../command';
import { cliMessage, EXIT_CODES_HELP } from '../messages';
import { refuseOutputsOverInputs } from '../output-plan';
import { DETECT_DEFAULTS } from '../../detect/postprocess';

function statusTable(stats: PipelineStats): string {
  const header = `${'stream'.padEnd(12)} ${'state'.padEnd(12)} ${'size'.padStart(9)} ${'fps in'.padStart(7)} ${'fps done'.padStart(8)} ${'dropped'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'decoder'.padStart(8)}`;
  const rows = stats.streams.map((s) =>
    [
      s.stream.slice(0, 12).padEnd(12),
      s.state.padEnd(12),
      (s.width ? `${s.width}x${s.height}` : '-').padStart(9),
      s.fpsIn.toFixed(1).padStart(7),
      s.fpsProcessed.toFixed(1).padStart(8),
      String(s.dropped).padStart(8),
      (Number.isNaN(s.latencyP50Ms) ? '-' : s.latencyP50Ms.toFixed(0)).padStart(7),
      (Number.isNaN(s.latencyP99Ms) ? '-' : s.latencyP99Ms.toFixed(0)).padStart(7),
      `${(s.decoderCpu * 100).toFixed(0)}%`.padStart(8),
    ].join(' '),
  );
  return [header, ...rows, `total: ${stats.fpsIn.toFixed(1)} fps in, ${stats.fpsProcessed.toFixed(1)} fps processed, decoders ${(stats.decoderCpuShare * 100).toFixed(0)} % of the CPU`].join('\n');
}

function detectionsJson(e: DetectionsEvent): string {
  return JSON.stringify({
    stream: e.stream,
    pts: Number.isNaN(e.pts) ? null : e.pts,
    time: e.time,
    latencyMs: e.latencyMs,
    width: e.width,
    height: e.height,
    detections: e.detections.map((d) => ({ label: d.label, classId: d.classId, score: Number(d.score.toFixed(4)), box: d.box })),
  });
}

export const watchCommand: Command = {
  name: 'watch',
  summary: 'detect on video files and RTSP/HTTP/V4L2 streams: JSON lines, a live table, or an annotated video',
  help: `Usage: int8-detect watch <source>... --model M [--backend B] [--precision P] [--json] [--out annotated.mp4] [--max-fps N]

Sources are video files, rtsp:// or rtsps:// URLs, http(s):// streams or V4L2 devices (/dev/video0),
decoded by ffmpeg. Live sources reconnect with backoff when they drop; credentials in URLs are never
printed. On a terminal a status table (fps, drops, latency per stream) refreshes every second;
--json prints one JSON object per processed frame, and the stream events, on stdout.

Options:
${engineFlagsHelp}
      --precision P        auto (default), fp32 or int8 (a quantized model, or a float one with --calibration)
      --calibration DIR    calibration images: with --precision int8, quantize a float model first (cached,
                           as createEngine's calibrator; see docs/quantization.md)
      --max-drop D         with --calibration: the largest estimated mAP drop the label-free check accepts
                           before the mixed-precision search keeps activations in float (default ${DEFAULT_MAX_DROP})
${detectFlagsHelp(DETECT_DEFAULTS)}
      --json               JSON lines: {"stream","pts","time","latencyMs","detections":[...]}, events as {"event":...}
      --out FILE           write an annotated video (boxes and labels) of the first source, H.264
      --max-fps N          process at most N frames a second per stream (of video time for files: a 30 s file
                           at --max-fps 5 gives about 150 frames, however fast it decodes)
      --max-retries N      reconnect attempts in a row before a live source gives up (default: never give up)
      --drop-policy P      latest (default for live sources) or keep-all (default for files)
      --rtsp-transport T   tcp (default) or udp
      --hwaccel H          none (default), auto, cuda, vaapi or qsv
      --duration S         stop after S seconds (default: until every source ends, or Ctrl-C)
      --ffmpeg PATH        the ffmpeg executable (default: ffmpeg on PATH)
  -h, --help               show this help

${EXIT_CODES_HELP}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        ...engineFlags,
        ...detectFlags,
        precision: { type: 'string' },
        calibration: { type: 'string' },
        'max-drop': { type: 'string' },
        'max-retries': { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        'max-fps': { type: 'string' },
        'drop-policy': { type: 'string' },
        'rtsp-transport': { type: 'string' },
        hwaccel: { type: 'string' },
        duration: { type: 'string' },
        ffmpeg: { type: 'string' },
      },
      true,
    );
    if (positionals.length === 0) throw new UsageError('give at least one source (a file, rtsp:// URL, http(s):// URL or /dev/videoN)');
    const precision = (values.precision as string | undefined) ?? 'auto';
    if (!['auto', 'fp32', 'int8'].includes(precision)) throw new UsageError(`--precision expects auto, fp32 or int8, got ${precision}`);
    const dropPolicy = values['drop-policy'] as string | undefined;
    if (dropPolicy !== undefined && dropPolicy !== 'latest' && dropPolicy !== 'keep-all') throw new UsageError(`--drop-policy expects latest or keep-all, got ${dropPolicy}`);
    const transport = values['rtsp-transport'] as string | undefined;
    if (transport !== undefined && transport !== 'tcp' && transport !== 'udp') throw new UsageError(`--rtsp-transport expects tcp or udp, got ${transport}`);
    const hwaccel = values.hwaccel as string | undefined;
    if (hwaccel !== undefined && !['none', 'auto', 'cuda', 'vaapi', 'qsv'].includes(hwaccel)) throw new UsageError(`--hwaccel expects none, auto, cuda, vaapi or qsv, got ${hwaccel}`);
    const maxFps = parseNumber(values['max-fps'], '--max-fps', { min: 0.01, max: 1000 });
    const duration = parseNumber(values.duration, '--duration', { min: 0.1 });
    const maxRetries = parseNumber(values['max-retries'], '--max-retries', { integer: true, min: 0 });
    const calibration = values.calibration as string | undefined;
    if (calibration !== undefined && precision !== 'int8') throw new UsageError(`--calibration quantizes a float model for --precision int8; add --precision int8 (got --precision ${precision})`);
    const maxDrop = parseNumber(values['max-drop'], '--max-drop', { min: 0, max: 1 });
    if (maxDrop !== undefined && calibration === undefined) throw new UsageError('--max-drop goes with --calibration DIR');
    const out = values.out as string | undefined;
    await refuseOutputsOverInputs([['--out', out]], [...positionals.map((source) => ['one of the sources', source] as const), ['--model', values.model as string | undefined]]);
    const json = values.json === true;
    const ffmpegPath = values.ffmpeg as string | undefined;

    const engine = await createEngine({
      ...engineOptionsFrom(values),
      precision: precision as 'auto' | 'fp32' | 'int8',
      ...(calibration !== undefined ? { calibrator: calibration } : {}),
      ...(maxDrop !== undefined ? { maxDrop } : {}),
    });
    const detect = detectOptionsFrom(values, {});
    const sources: SourceOptions[] = positionals.map((url, i) => ({
      url,
      id: `stream${i}`,
      // The annotated video is drawn on BGR pixels; the others go to the engine as NV12 (half the bytes).
      format: out !== undefined && i === 0 ? 'bgr' : 'nv12',
      ...(transport !== undefined ? { rtspTransport: transport as 'tcp' | 'udp' } : {}),
      ...(hwaccel !== undefined ? { hwaccel: hwaccel as SourceOptions['hwaccel'] } : {}),
      ...(ffmpegPath !== undefined ? { ffmpegPath } : {}),
      ...(maxRetries !== undefined ? { maxRetries } : {}),
    }));
    const pipeline = createPipeline({
      engine,
      sources,
      detect,
      ...(dropPolicy !== undefined ? { dropPolicy: dropPolicy as DropPolicy } : {}),
      ...(maxFps !== undefined ? { maxFps } : {}),
    });
    const tty = process.stdout.isTTY === true && !json;
    const say = (event: string, payload: object, text: string) => {
      if (json) process.stdout.write(`${JSON.stringify({ event, ...payload })}\n`);
      else process.stderr.write(`${text}\n`);
    };
    let writer: VideoWriter | undefined;
    let writing = Promise.resolve();
    let firstError: Error | undefined;
    pipeline.on('connected', (e) => say('connected', e, `${e.stream}: connected to ${e.url} (${e.width}x${e.height})`));
    pipeline.on('disconnected', (e) => say('disconnected', e, `${e.stream}: disconnected (${e.reason})`));
    pipeline.on('reconnecting', (e) => say('reconnecting', e, `${e.stream}: reconnecting in ${e.delayMs} ms (attempt ${e.attempt})`));
    pipeline.on('end', (e) => say('end', e, `${e.stream}: ended after ${e.frames} frames`));
    pipeline.on('error', (e) => {
      if (e.fatal && !firstError) firstError = e.error;
      const message = cliMessage(e.error);
      say('error', { stream: e.stream, url: e.url, fatal: e.fatal, message }, `${e.stream}: ${message}`);
    });
    pipeline.on('detections', (e) => {
      if (json) process.stdout.write(`${detectionsJson(e)}\n`);
      if (out !== undefined && e.stream === 'stream0') {
        writer ??= new VideoWriter({ path: out, width: e.width, height: e.height, fps: maxFps ?? 15, ...(ffmpegPath !== undefined ? { ffmpegPath } : {}) });
        if (e.width !== writer.width || e.height !== writer.height) return; // the file keeps its first size
        // The frame's memory is reused once this listener returns: draw (which copies) now.
        const drawn = drawDetectionsRaw({ data: Buffer.from(e.frame.data), width: e.width, height: e.height, format: 'bgr' }, e.detections);
        const w = writer;
        writing = writing.then(async () => w.write(await drawn));
      }
    });
    let lastTableLines = 0;
    pipeline.on('stats', (s) => {
      if (json) return;
      const table = statusTable(s);
      if (tty) {
        process.stdout.write(`${lastTableLines > 0 ? `\x1b[${lastTableLines}A\x1b[J` : ''}${table}\n`);
        lastTableLines = table.split('\n').length;
      } else {
        process.stderr.write(`${table}\n`);
      }
    });

    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (duration !== undefined) setTimeout(resolve, duration * 1000).unref();
    });
    try {
      await Promise.race([pipeline.whenIdle(), stop]);
    } finally {
      await pipeline.dispose();
      await writing;
      await writer?.close();
      await engine.dispose();
    }
    if (firstError && pipeline.info.streams.length === 1) throw firstError;
  },
};
