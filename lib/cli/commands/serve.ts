/** `int8-detect serve`: the video-analytics server (HTTP API, live page, events, metrics) until SIGTERM. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { loadCoreAddon } from '../../native/core-addon';
import { config as environment } from '../../util/config';
import { loadServeConfig, type ServeConfig } from '../../serve/config-file';
import { createServer } from '../../serve/server';
import type { CameraOptions, ServerOptions } from '../../serve/types';
import { engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, parseNumber, UsageError } from '../args';
import type { Command } from '../command';

/** glibc malloc arenas for the server process (MALLOC_ARENA_MAX=2's effect, measured in docs/serve.md). */
const SERVE_MALLOC_ARENAS = 2;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the video-analytics server: HTTP API, live view page, tracking, zones and lines, events, Prometheus metrics',
  help: `Usage: int8-detect serve --config serve.yaml
       int8-detect serve --model M [--backend B] [--host H] [--port 8080] [--token T] [--camera URL]...

Serves POST /v1/detect, /v1/streams (cameras added and removed at run time), /v1/events
(Server-Sent Events), /metrics (Prometheus), /openapi.json, and the live view at /. It binds
127.0.0.1 unless told otherwise. SIGTERM or Ctrl-C: requests in flight finish, decoders stop, exit 0.
See docs/serve.md for the config file (models, cameras with zones and lines, webhooks, limits).

Options:
      --config FILE        YAML or JSON config (the flags below override its host, port and token)
${engineFlagsHelp}
      --precision P        auto (default), fp32 or int8 (a quantized model)
      --host H             bind address (default 127.0.0.1)
      --port N             port (default 8080; 0: any free port)
      --token T            require this token on every /v1 route (at least 8 characters)
      --token-file FILE    read the token from a file (keeps it off the command line)
      --camera URL         a camera (repeatable): rtsp://, rtsps://, http(s)://, a file or /dev/videoN
      --max-fps N          process at most N frames a second per camera
      --allow-file-sources let POST /v1/streams open files and /dev/video devices
      --log-level L        fatal, error, warn, info (default), debug, trace or silent
      --ffmpeg PATH        the ffmpeg executable (default: ffmpeg on PATH)
  -h, --help               show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        ...engineFlags,
        config: { type: 'string' },
        precision: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        camera: { type: 'string', multiple: true },
        'max-fps': { type: 'string' },
        'allow-file-sources': { type: 'boolean' },
        'log-level': { type: 'string' },
        ffmpeg: { type: 'string' },
      },
      false,
    );
    const configFile = values.config as string | undefined;
    const config: ServeConfig = configFile ? loadServeConfig(configFile) : {};
    if (values.model !== undefined) {
      const precision = (values.precision as string | undefined) ?? 'auto';
      if (!['auto', 'fp32', 'int8'].includes(precision)) throw new UsageError(`--precision expects auto, fp32 or int8, got ${precision}`);
      config.models = { default: { ...engineOptionsFrom(values), precision: precision as 'auto' | 'fp32' | 'int8' }, ...(config.models ?? {}) };
      delete config.model;
    } else if (config.model === undefined && config.models === undefined) {
      throw new UsageError('give --model M or --config FILE with a model');
    }
    const port = parseNumber(values.port, '--port', { integer: true, min: 0, max: 65535 });
    const maxFps = parseNumber(values['max-fps'], '--max-fps', { min: 0.01 });
    const level = (values['log-level'] as string | undefined) ?? (typeof config.logger === 'object' ? config.logger.level : undefined) ?? 'info';
    if (!(LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level expects ${LEVELS.join(', ')}, got ${level}`);
    let token = (values.token as string | undefined) ?? config.token;
    if (values['token-file'] !== undefined) token = readFileSync(values['token-file'] as string, 'utf8').trim();
    const cameras: CameraOptions[] = [
      ...(config.cameras ?? []),
      ...((values.camera as string[] | undefined) ?? []).map((url) => ({ url, ...(maxFps !== undefined ? { maxFps } : {}) })),
    ];
    // The engine and INT8 caches read it when the engines are created.
    if (config.cacheDir !== undefined) process.env.INT8_DETECT_CACHE_DIR = config.cacheDir;

    const { cacheDir: _cacheDir, logger: _logger, ...rest } = config;
    const options: ServerOptions = {
      ...rest,
      cameras,
      ...(values.host !== undefined ? { host: values.host as string } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(token !== undefined ? { token } : {}),
      ...(values['allow-file-sources'] === true ? { allowFileSources: true } : {}),
      ...(values.ffmpeg !== undefined ? { ffmpegPath: values.ffmpeg as string } : {}),
      logger: { level: level as (typeof LEVELS)[number] },
    };
    // libvips' operation cache (up to 50 MB) keeps results for inputs that come again; a server's
    // images and frames never do, so in this process it would only hold memory.
    sharp.cache(false);
    // glibc arenas: every thread that meets contention gets one and keeps what it freed; capped at
    // two before the engines' and decoders' threads start, RSS growth under load fell from +29 MiB to
    // +9.5 MiB (docs/serve.md). A MALLOC_ARENA_MAX the user set wins.
    if (!environment.mallocArenaMaxGiven) loadCoreAddon().limitMallocArenas?.(SERVE_MALLOC_ARENAS);
    const server = await createServer(options);
    let stopping: Promise<void> | undefined;
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          // A second signal: the person wants out now.
          process.stderr.write(`int8-detect serve: ${signal} again, exiting without waiting\n`);
          process.exit(1);
        }
        server.app.log.info({ signal }, 'shutting down: finishing requests in flight, stopping the decoders');
        stopping = server.close().then(resolve, (err: unknown) => {
          server.app.log.error({ err }, 'shutdown failed');
          resolve();
        });
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    await server.listen();
    await stopped;
  },
};
