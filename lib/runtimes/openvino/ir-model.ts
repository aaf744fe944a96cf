/**
 * An OpenVINO IR model (model.xml with model.bin beside it) as the engine sees it: checked on disk
 * before OpenVINO reads it (so a missing .bin is named), and described without reading the weights.
 * Only the openvino backend runs IR; the engine passes its path, never its bytes.
 */
import { promises as fs } from 'node:fs';
import { Int8DetectError } from '../../util/errors';
import type { ModelInfo } from '../../onnx/model-info';

export interface OpenVinoIrModel {
  /** Always empty: OpenVINO reads the IR from its path. */
  bytes: Uint8Array;
  info: ModelInfo;
  /** The IR holds FakeQuantize nodes: OpenVINO runs those layers in INT8. */
  quantized: boolean;
  fakeQuantizeNodes: number;
  xmlPath: string;
  binPath: string;
}

/** A model given as a path ending in .xml is OpenVINO IR. */
export function isOpenVinoIrPath(model: unknown): model is string {
  return typeof model === 'string' && /\.xml$/i.test(model);
}

export function irWeightsPath(xmlPath: string): string {
  return xmlPath.replace(/\.xml$/i, '.bin');
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Checks both files and reads the xml's header and layer types (never the weights). */
export async function readOpenVinoIr(xmlPath: string): Promise<OpenVinoIrModel> {
  if (!(await isFile(xmlPath))) throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${xmlPath}: no such file`);
  const binPath = irWeightsPath(xmlPath);
  if (!(await isFile(binPath))) {
    throw new Int8DetectError('ERR_MODEL', `The OpenVINO IR ${xmlPath} has no weights file beside it: ${binPath} is missing`);
  }
  const xml = await fs.readFile(xmlPath, 'utf8');
  const net = /<net\b[^>]*>/.exec(xml);
  if (!net) throw new Int8DetectError('ERR_MODEL', `${xmlPath} is not an OpenVINO IR: it has no <net> element`);
  const fakeQuantizeNodes = (xml.match(/<layer\b[^>]*\btype="FakeQuantize"/g) ?? []).length;
  const irVersion = Number(/\bversion="(\d+)"/.exec(net[0])?.[1] ?? 0);
  return {
    bytes: new Uint8Array(0),
    info: {
      irVersion,
      producerName: 'OpenVINO IR',
      producerVersion: '',
      opsetImports: [],
      metadata: {},
      // The compiled model reports the real inputs and outputs; the profile reads those.
      inputs: [],
      outputs: [],
    },
    quantized: fakeQuantizeNodes > 0,
    fakeQuantizeNodes,
    xmlPath,
    binPath,
  };
}
