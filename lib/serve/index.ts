/** The serve module's public surface: createServer, its options, events and the tracking types they carry. */
export { createServer, type Int8DetectServer } from './server';
export { loadServeConfig, type ServeConfig } from './config-file';
export type { CameraOptions, ModelOptions, LoggerOptions, ServerEvent, ServerEventType, ServerLimits, ServerOptions, StreamInfo, TrackedObject, WebhookOptions } from './types';
export { ByteTracker, type Track, type TrackerOptions, type TrackerUpdate } from '../video/tracking/byte-tracker';
export { StreamAnalytics, type AnalyticsCounts, type AnalyticsEvent, type StreamAnalyticsOptions } from '../video/tracking/stream-analytics';
export type { ZoneSpec, ZoneEvent } from '../video/tracking/zones';
export type { LineSpec, LineCrossEvent } from '../video/tracking/lines';
