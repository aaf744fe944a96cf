/** int8-detect/video: helpers of the video pipeline beyond createPipeline (in the root). */
export { redactUrl } from '../video/redact';
export { ffmpegCredentialsNote } from '../video/gst-env-launch';
export { ByteTracker, StreamAnalytics, type Track, type TrackerOptions, type TrackerUpdate, type AnalyticsCounts, type AnalyticsEvent, type StreamAnalyticsOptions, type ZoneSpec, type ZoneEvent, type LineSpec, type LineCrossEvent } from '../serve';
