/** The errors a video source reports: one class, with a reason callers can branch on. */
import { Int8DetectError } from '../util/errors';

export type VideoErrorReason =
  | 'decoder-missing' // ffmpeg (or gst-launch-1.0) is not installed or not at the configured path
  | 'auth' // the camera refused the credentials (RTSP/HTTP 401)
  | 'not-found' // no such file, device or stream path (404, ENOENT)
  | 'timeout' // the source did not answer within connectTimeoutMs
  | 'stalled' // connected, then no frame for stallTimeoutMs
  | 'decoder-exit' // the decoder ended with an error
  | 'retries-exhausted'; // maxRetries reconnects failed: the source gives up

export class VideoSourceError extends Int8DetectError {
  /** The source's id, as given in the pipeline's sources. */
  readonly stream: string;
  readonly reason: VideoErrorReason;
  /** True when the source gave up: no more reconnects will follow. */
  readonly fatal: boolean;

  constructor(stream: string, reason: VideoErrorReason, fatal: boolean, message: string) {
    super('ERR_VIDEO', message);
    this.name = 'VideoSourceError';
    this.stream = stream;
    this.reason = reason;
    this.fatal = fatal;
  }
}
