/** TensorRT version numbers as its library reports them, in words. */

export interface TensorRtVersion {
  major: number;
  minor: number;
  patch: number;
}

/**
 * getInferLibVersion() encodes 8.x as major*1000 + minor*100 + patch (8601 = 8.6.1) and 10.x on as
 * major*10000 + minor*100 + patch (100300 = 10.3.0); a number from 10000 up is the newer form.
 */
export function decodeTensorRtVersion(encoded: number): TensorRtVersion {
  if (!Number.isInteger(encoded) || encoded <= 0) throw new RangeError(`Not a TensorRT version number: ${encoded}`);
  if (encoded >= 10000) return { major: Math.floor(encoded / 10000), minor: Math.floor((encoded % 10000) / 100), patch: encoded % 100 };
  return { major: Math.floor(encoded / 1000), minor: Math.floor((encoded % 1000) / 100), patch: encoded % 100 };
}

export function formatTensorRtVersion(version: TensorRtVersion): string {
  return `${version.major}.${version.minor}.${version.patch}`;
}

/** The number TensorRT writes into calibration cache headers (TRT-<number>-...): NV_TENSORRT_VERSION. */
export function encodeTensorRtVersion(version: TensorRtVersion): number {
  return version.major >= 10
    ? version.major * 10000 + version.minor * 100 + version.patch
    : version.major * 1000 + version.minor * 100 + version.patch;
}
