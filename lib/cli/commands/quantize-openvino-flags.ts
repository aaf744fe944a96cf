/**
 * The flags only `quantize --backend openvino` takes, for both help texts. Kept apart from
 * quantize-openvino.ts so that `quantize --help` does not load the OpenVINO quantizer.
 */

/** NNCF's subset size, the default number of calibration images (runtimes/openvino/quantize.ts checks it is the same). */
export const OPENVINO_DEFAULT_SUBSET_SIZE = 300;

export const OPENVINO_ONLY_FLAGS_HELP = `      --preset P           mixed (default: asymmetric activations) or performance (symmetric, as NNCF's)
      --subset N           calibrate on at most N images (default ${OPENVINO_DEFAULT_SUBSET_SIZE}, NNCF's subset size)`;
