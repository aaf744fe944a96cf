/** int8-detect/video: helpers of the video pipeline beyond createPipeline (in the root). */
export { redactUrl } from '../video/redact';
