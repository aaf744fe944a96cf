/**
 * Quantized models in the cache folder (`int8/`), on the one artefact cache
 * (lib/util/artefact-cache.ts): the artefact as it is (`x.onnx`, or an IR's `x.xml` with `x.bin`),
 * loadable by any tool, and a JSON manifest beside it with the cache key, every file's size and
 * SHA-256, and the quantization summary engine.info reports.
 */
import * as path from 'node:path';
import { lookupArtefact, removeArtefact, storeArtefact, type ArtefactKind, type ArtefactLookup, type ArtefactManifest } from '../util/artefact-cache';
import { fileSlug } from '../util/hash';
import type { Int8Summary } from './int8-summary';

export const INT8_MANIFEST_FORMAT = 'int8-detect-int8-model';
/** 2: the one artefact-cache manifest (artefact + record); version 1 entries are rebuilt. */
export const INT8_MANIFEST_VERSION = 2;

const INT8: ArtefactKind<unknown> = {
  format: INT8_MANIFEST_FORMAT,
  version: INT8_MANIFEST_VERSION,
  noun: 'quantized model',
  manifestNoun: 'manifest',
};

export type Int8Manifest<Key> = ArtefactManifest<Key, Int8Summary>;

/**
 * The entry's path: one file per key (the name holds the model's and the key's hash), so other
 * settings sit beside it instead of replacing it.
 */
export function int8CachePath(cacheDir: string, modelName: string, modelSha256: string, keyHash: string, extension: string): string {
  const base = fileSlug(path.basename(modelName, path.extname(modelName)), 'model');
  return path.join(cacheDir, 'int8', `${base}-${modelSha256.slice(0, 12)}-${keyHash.slice(0, 16)}${extension}`);
}

export function lookupInt8Model<Key>(file: string, key: Key): Promise<ArtefactLookup<Key, Int8Summary>> {
  return lookupArtefact<Key, Int8Summary>(INT8 as ArtefactKind<Key>, file, key);
}

export function storeInt8Model<Key>(file: string, key: Key, bytes: Uint8Array, summary: Int8Summary, companions?: ReadonlyMap<string, Uint8Array>): Promise<Int8Manifest<Key>> {
  return storeArtefact(INT8 as ArtefactKind<Key>, file, key, bytes, summary, companions);
}

export const removeInt8Model = removeArtefact;
