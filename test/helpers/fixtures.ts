/** The shared fixtures folder, resolved once (override with INT8_DETECT_FIXTURES). */
import * as path from 'node:path';
import { config } from '../../lib/util/config';

export const fixturesDir = config.fixturesDir;
export const models = {
  yoloxNano: path.join(fixturesDir, 'models', 'yolox_nano.onnx'),
  yolov8n: path.join(fixturesDir, 'models', 'yolov8n_coco640.onnx'),
  cocoClasses: path.join(fixturesDir, 'models', 'coco_classes.txt'),
};
export const coco = {
  evalImages: path.join(fixturesDir, 'coco', 'eval', 'images'),
  evalAnnotations: path.join(fixturesDir, 'coco', 'eval', 'instances.json'),
  calibImages: path.join(fixturesDir, 'coco', 'calib'),
};
