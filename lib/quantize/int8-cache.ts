/**
 * Quantized models on disk, as TensorRT plans are (lib/tensorrt/engine-cache.ts): the artefact as
 * it is (`x.onnx`, loadable by any tool) and a JSON manifest beside it (`x.onnx.json`) holding the
 * cache key, the artefact's size and SHA-256, and the quantization summary engine.info reports.
 * An entry whose manifest is missing, unreadable, for another key, or whose artefact does not
 * hash to what the manifest says (truncated, replaced) is never loaded: the caller deletes it and
 * quantizes again. An artefact of several files (an OpenVINO IR: `x.xml` with its weights in
 * `x.bin`) lists the others as companions in the manifest, each with its size and SHA-256.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { canonicalJson, sha256, sidecarPath } from '../runtimes/tensorrt/plan-cache';

export const INT8_MANIFEST_FORMAT = 'int8-detect-int8-model';
export const INT8_MANIFEST_VERSION = 1;

export interface Int8Manifest<Key, Summary> {
  format: typeof INT8_MANIFEST_FORMAT;
  version: typeof INT8_MANIFEST_VERSION;
  keyHash: string;
  key: Key;
  artefact: { file: string; bytes: number; sha256: string };
  /** Files the artefact needs beside it (an IR's .bin): same stem, other extension. */
  companions?: { file: string; bytes: number; sha256: string }[];
  summary: Summary;
  createdAt: string;
}

export type Int8Lookup<Key, Summary> =
  | { status: 'hit'; bytes: Buffer; manifest: Int8Manifest<Key, Summary> }
  | { status: 'missing' }
  | { status: 'corrupt'; reason: string };

export function int8KeyHash(key: unknown): string {
  return sha256(canonicalJson(key));
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
}

/**
 * The entry's path: one file per key (the name holds the model's and the key's hash), so other
 * settings sit beside it instead of replacing it.
 */
export function int8CachePath(cacheDir: string, modelName: string, modelSha256: string, keyHash: string, extension: string): string {
  const base = slug(path.basename(modelName, path.extname(modelName)));
  return path.join(cacheDir, 'int8', `${base}-${modelSha256.slice(0, 12)}-${keyHash.slice(0, 16)}${extension}`);
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the cached quantized model ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function isManifest(value: unknown): value is Int8Manifest<unknown, unknown> {
  const v = value as Int8Manifest<unknown, unknown>;
  return (
    typeof v === 'object' && v !== null && v.format === INT8_MANIFEST_FORMAT && v.version === INT8_MANIFEST_VERSION &&
    typeof v.keyHash === 'string' && typeof v.artefact === 'object' && v.artefact !== null &&
    typeof v.artefact.sha256 === 'string' && typeof v.artefact.bytes === 'number' && typeof v.summary === 'object' && v.summary !== null &&
    (v.companions === undefined || (Array.isArray(v.companions) && v.companions.every((c) => typeof c === 'object' && c !== null && typeof c.sha256 === 'string')))
  );
}

/** The entry at `file` when it is whole and made for `key`. */
export async function lookupInt8Model<Key, Summary>(file: string, key: Key): Promise<Int8Lookup<Key, Summary>> {
  const manifestBytes = await readIfExists(sidecarPath(file));
  const bytes = await readIfExists(file);
  if (manifestBytes === undefined && bytes === undefined) return { status: 'missing' };
  if (manifestBytes === undefined) return { status: 'corrupt', reason: `${file} has no manifest ${path.basename(sidecarPath(file))}` };
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    return { status: 'corrupt', reason: `the manifest ${sidecarPath(file)} is not valid JSON` };
  }
  if (!isManifest(manifest)) return { status: 'corrupt', reason: `${sidecarPath(file)} is not an int8-detect quantized-model manifest` };
  if (manifest.keyHash !== int8KeyHash(key) || canonicalJson(manifest.key) !== canonicalJson(key)) {
    return { status: 'corrupt', reason: `the manifest ${sidecarPath(file)} was written for other settings` };
  }
  if (bytes === undefined) return { status: 'corrupt', reason: `${file} is missing beside its manifest` };
  if (bytes.length !== manifest.artefact.bytes || sha256(bytes) !== manifest.artefact.sha256) {
    return { status: 'corrupt', reason: `${file} does not match its manifest's size and SHA-256 (truncated or overwritten)` };
  }
  for (const companion of manifest.companions ?? []) {
    const companionPath = path.join(path.dirname(file), path.basename(String(companion.file)));
    const companionBytes = await readIfExists(companionPath);
    if (companionBytes === undefined) return { status: 'corrupt', reason: `${companionPath}, which ${path.basename(file)} needs, is missing` };
    if (companionBytes.length !== companion.bytes || sha256(companionBytes) !== companion.sha256) {
      return { status: 'corrupt', reason: `${companionPath} does not match its manifest's size and SHA-256 (truncated or overwritten)` };
    }
  }
  return { status: 'hit', bytes, manifest: manifest as Int8Manifest<Key, Summary> };
}

/** A companion's path: the artefact's with another extension (`x.xml` -> `x.bin`). */
export function int8CompanionPath(file: string, extension: string): string {
  return file.slice(0, file.length - path.extname(file).length) + extension;
}

/** One digest of every file of an entry, e.g. to key measurements made on that artefact. */
export function int8EntryDigest(manifest: Int8Manifest<unknown, unknown>): string {
  return sha256([manifest.artefact.sha256, ...(manifest.companions ?? []).map((c) => c.sha256)].join('\n'));
}

/** Remove an entry (artefact, companions, manifest); a file already gone is fine. */
export async function removeInt8Model(file: string, companionExtensions: readonly string[] = []): Promise<void> {
  await fs.rm(file, { force: true });
  for (const extension of companionExtensions) await fs.rm(int8CompanionPath(file, extension), { force: true });
  await fs.rm(sidecarPath(file), { force: true });
}

/**
 * The companions, the artefact, then its manifest, each written atomically: a reader sees a whole
 * entry or one whose manifest does not match (and is rebuilt).
 */
export async function storeInt8Model<Key, Summary>(
  file: string,
  key: Key,
  bytes: Uint8Array,
  summary: Summary,
  companions: ReadonlyMap<string, Uint8Array> = new Map(),
): Promise<Int8Manifest<Key, Summary>> {
  const companionFiles = [...companions].map(([extension, data]) => ({ path: int8CompanionPath(file, extension), data }));
  const manifest: Int8Manifest<Key, Summary> = {
    format: INT8_MANIFEST_FORMAT,
    version: INT8_MANIFEST_VERSION,
    keyHash: int8KeyHash(key),
    key,
    artefact: { file: path.basename(file), bytes: bytes.byteLength, sha256: sha256(bytes) },
    ...(companionFiles.length > 0 ? { companions: companionFiles.map((c) => ({ file: path.basename(c.path), bytes: c.data.byteLength, sha256: sha256(c.data) })) } : {}),
    summary,
    createdAt: new Date().toISOString(),
  };
  for (const companion of companionFiles) await writeFileAtomic(companion.path, companion.data);
  await writeFileAtomic(file, bytes);
  await writeFileAtomic(sidecarPath(file), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
