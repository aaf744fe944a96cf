/**
 * `int8-detect build-native --module openvino`: for platforms without a platform package, the
 * OpenVINO module built against an OpenVINO the user has (a toolkit, or the `openvino` wheel).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from '../../util/errors';
import type { NativeBuildRecipe } from '../backend';

export const openVinoNativeBuild: NativeBuildRecipe = {
  module: 'openvino',
  byDefault: false,
  flags: { 'openvino-dir': "OpenVINO's CMake folder, the one holding OpenVINOConfig.cmake (default: OpenVINO_DIR)" },
  prepare(flags) {
    const dir = flags['openvino-dir'] ?? process.env.OpenVINO_DIR;
    if (!dir || !fs.existsSync(path.join(dir, 'OpenVINOConfig.cmake'))) {
      throw new Int8DetectError(
        'ERR_BACKEND_UNAVAILABLE',
        `Cannot build the OpenVINO module: no OpenVINOConfig.cmake in ${dir ?? '(OpenVINO_DIR is not set)'}. ` +
          "Point --openvino-dir (or OpenVINO_DIR) at OpenVINO's CMake folder: a toolkit's runtime/cmake, or the openvino wheel's (python -c \"import openvino; print(openvino.get_cmake_path())\")",
      );
    }
    return { defines: { OpenVINO_DIR: dir }, summary: `OpenVINO from ${dir}` };
  },
};
