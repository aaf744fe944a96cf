/** The detection types every backend and decoder share. */

/** A box in pixel coordinates: (x1, y1) top-left, (x2, y2) bottom-right. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** One detected object, in source-frame pixel coordinates, clipped to the frame. */
export interface Detection {
  box: Box;
  /** Confidence in 0..1 (objectness x class probability where the head has objectness). */
  score: number;
  /** Index of the class in the model's output. */
  classId: number;
  /** The class name (from the model's metadata, a labels file, or `class <id>`). */
  label: string;
}

/** Detector heads the decoders understand. 'yolov8' also covers YOLO11 (same head layout). */
export type DetectorFamily = 'yolox' | 'yolov5' | 'yolov8';

/** A raw output tensor as the backend returns it. */
export interface OutputTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

/** Where the source image sits inside the model input (the letterbox), and the sizes on both sides. */
export interface LetterboxGeometry {
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  /** Source pixels x scale = model-input pixels. */
  scale: number;
  resizedWidth: number;
  resizedHeight: number;
  offsetX: number;
  offsetY: number;
}

/** Options that shape the detections `detect()` returns. */
export interface DetectOptions {
  /** Minimum score to keep a detection (default 0.25). */
  scoreThreshold?: number;
  /** IoU above which NMS suppresses the lower-scored box of the same class (default 0.45). */
  iouThreshold?: number;
  /** At most this many detections, best first (default 300). */
  maxDetections?: number;
  /** Keep only these class ids. */
  classes?: readonly number[];
  /** Suppress across classes instead of within each class (default false: class-aware NMS). */
  classAgnostic?: boolean;
  /**
   * Keep every class above the threshold for a box, not only its best one (default false). COCO
   * evaluation uses it, as Ultralytics' validator does; live detection rarely wants it.
   */
  multiLabel?: boolean;
}

export type ResolvedDetectOptions = Required<Omit<DetectOptions, 'classes'>> & { classes?: readonly number[] };

/** How a model wants its input: the engine fills this from the model's family and metadata. */
export interface PreprocessSpec {
  /** Model input width and height in pixels. */
  width: number;
  height: number;
  layout: 'nchw' | 'nhwc';
  dtype: 'float32' | 'uint8';
  /** Channel order the model expects ('gray' for one-channel models). */
  channelOrder: 'rgb' | 'bgr' | 'gray';
  /** out = (pixel * scale - mean[c]) / std[c]; YOLOX: 1, 0, 1; Ultralytics: 1/255, 0, 1. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Letterbox pad colour in pixel units (114 for YOLOX and Ultralytics). */
  padValue: number;
  /** Where the resized image sits: 'topleft' (YOLOX) or 'center' (Ultralytics). */
  placement: 'topleft' | 'center';
}
