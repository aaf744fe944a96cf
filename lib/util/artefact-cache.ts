/**
 * The one on-disk cache for what is expensive to make: quantized models, TensorRT plans and
 * precision measurements. An artefact stays as it is (`x.onnx`, `x.plan`: loadable by any tool)
 * with a JSON manifest beside it (`x.onnx.json`) holding the cache key, each file's size and
 * SHA-256, and a record (the quantization summary, the build record). A measurement is a
 * manifest alone. An entry that is missing a file, unreadable, made for another key, or whose
 * files do not hash to what the manifest says (truncated, replaced) is never used: the lookup
 * says why, and the caller removes it and makes it again. Every file is written atomically, the
 * manifest last, so a reader sees a whole entry or one that does not match (and is remade).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from './errors';
import { companionPath, writeFileAtomic } from './files';
import { canonicalJson, keyHash, sha256 } from './hash';

export interface FileDigest {
  file: string;
  bytes: number;
  sha256: string;
}

export interface ArtefactManifest<Key, Record> {
  format: string;
  version: number;
  keyHash: string;
  key: Key;
  /** The artefact's digest; absent for an entry that is a record alone (a measurement). */
  artefact?: FileDigest;
  /** Files the artefact needs beside it (an OpenVINO IR's .bin): same stem, other extension. */
  companions?: FileDigest[];
  record: Record;
  createdAt: string;
}

export type ArtefactLookup<Key, Record> =
  | { status: 'hit'; bytes: Buffer; manifest: ArtefactManifest<Key, Record> }
  | { status: 'missing'; reason: string }
  | { status: 'stale'; reason: string };

/** One kind of entry: its manifest format and how messages name it. */
export interface ArtefactKind<Key> {
  format: string;
  version: number;
  /** What the artefact is called in messages: 'plan', 'quantized model'. */
  noun: string;
  /** What the manifest is called: 'sidecar', 'manifest'. */
  manifestNoun: string;
  /** Said after "x has no manifest y" (why that matters). */
  missingManifestHint?: string;
  /** Why an entry made for `found` cannot serve `wanted`, one phrase each; empty when it can. */
  differences?(found: Key, wanted: Key): string[];
}

export function manifestPath(file: string): string {
  return `${file}.json`;
}

/** One digest of every file of an entry, e.g. to key measurements made on that artefact. */
export function entryDigest(manifest: ArtefactManifest<unknown, unknown>): string {
  return sha256([manifest.artefact?.sha256 ?? '', ...(manifest.companions ?? []).map((c) => c.sha256)].join('\n'));
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the cached file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function isDigest(value: unknown): value is FileDigest {
  const v = value as FileDigest;
  return typeof v === 'object' && v !== null && typeof v.sha256 === 'string' && typeof v.bytes === 'number';
}

function isManifest(value: unknown, kind: ArtefactKind<unknown>): value is ArtefactManifest<unknown, unknown> {
  const v = value as ArtefactManifest<unknown, unknown>;
  return (
    typeof v === 'object' && v !== null && v.format === kind.format && v.version === kind.version && typeof v.keyHash === 'string' &&
    typeof v.key === 'object' && v.key !== null && typeof v.record === 'object' && v.record !== null &&
    (v.artefact === undefined || isDigest(v.artefact)) && (v.companions === undefined || (Array.isArray(v.companions) && v.companions.every(isDigest)))
  );
}

function differences<Key>(kind: ArtefactKind<Key>, found: Key, wanted: Key): string[] {
  const listed = kind.differences?.(found, wanted) ?? [];
  if (listed.length === 0 && canonicalJson(found) !== canonicalJson(wanted)) return ['it was written for other settings'];
  return listed;
}

/** Reads and checks a manifest file: the manifest, or why it cannot be trusted. */
async function readManifest<Key, Record>(
  kind: ArtefactKind<Key>,
  file: string,
  key: Key,
  manifestFile: string,
  bytes: Buffer,
): Promise<ArtefactManifest<Key, Record> | { reason: string }> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { reason: `the ${kind.manifestNoun} ${manifestFile} is not valid JSON` };
  }
  if (!isManifest(manifest, kind as ArtefactKind<unknown>)) return { reason: `${manifestFile} is not an int8-detect ${kind.noun.replace(/ /g, '-')} ${kind.manifestNoun}` };
  const diff = differences(kind, manifest.key as Key, key);
  if (diff.length > 0 || manifest.keyHash !== keyHash(key)) {
    return { reason: `the ${kind.noun} ${file} cannot be used: ${(diff.length > 0 ? diff : ['its key hash differs']).join('; ')}` };
  }
  return manifest as ArtefactManifest<Key, Record>;
}

/** The entry at `file` when it is whole and made for `key`. */
export async function lookupArtefact<Key, Record>(kind: ArtefactKind<Key>, file: string, key: Key): Promise<ArtefactLookup<Key, Record>> {
  const manifestFile = manifestPath(file);
  const manifestBytes = await readIfExists(manifestFile);
  const bytes = await readIfExists(file);
  if (manifestBytes === undefined && bytes === undefined) return { status: 'missing', reason: `no ${kind.noun} at ${file}` };
  if (manifestBytes === undefined) {
    return { status: 'stale', reason: `${file} has no ${kind.manifestNoun} ${path.basename(manifestFile)}${kind.missingManifestHint ? `, ${kind.missingManifestHint}` : ''}` };
  }
  const manifest = await readManifest<Key, Record>(kind, file, key, manifestFile, manifestBytes);
  if ('reason' in manifest) return { status: 'stale', reason: manifest.reason };
  if (bytes === undefined) return { status: 'stale', reason: `the ${kind.noun} ${file} is missing beside its ${kind.manifestNoun}` };
  if (!manifest.artefact || bytes.length !== manifest.artefact.bytes || sha256(bytes) !== manifest.artefact.sha256) {
    return { status: 'stale', reason: `the ${kind.noun} ${file} does not match its ${kind.manifestNoun} (truncated or replaced)` };
  }
  for (const companion of manifest.companions ?? []) {
    const other = path.join(path.dirname(file), path.basename(String(companion.file)));
    const otherBytes = await readIfExists(other);
    if (otherBytes === undefined) return { status: 'stale', reason: `${other}, which ${path.basename(file)} needs, is missing` };
    if (otherBytes.length !== companion.bytes || sha256(otherBytes) !== companion.sha256) {
      return { status: 'stale', reason: `${other} does not match its ${kind.manifestNoun} (truncated or replaced)` };
    }
  }
  return { status: 'hit', bytes, manifest };
}

/** The companions, the artefact, then its manifest, each written atomically; returns the manifest. */
export async function storeArtefact<Key, Record>(
  kind: ArtefactKind<Key>,
  file: string,
  key: Key,
  bytes: Uint8Array,
  record: Record,
  companions: ReadonlyMap<string, Uint8Array> = new Map(),
): Promise<ArtefactManifest<Key, Record>> {
  const others = [...companions].map(([extension, data]) => ({ path: companionPath(file, extension), data }));
  const manifest: ArtefactManifest<Key, Record> = {
    format: kind.format,
    version: kind.version,
    keyHash: keyHash(key),
    key,
    artefact: { file: path.basename(file), bytes: bytes.byteLength, sha256: sha256(bytes) },
    ...(others.length > 0 ? { companions: others.map((c) => ({ file: path.basename(c.path), bytes: c.data.byteLength, sha256: sha256(c.data) })) } : {}),
    record,
    createdAt: new Date().toISOString(),
  };
  for (const other of others) await writeFileAtomic(other.path, other.data);
  await writeFileAtomic(file, bytes);
  await writeFileAtomic(manifestPath(file), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Removes an entry (artefact, companions, manifest); a file already gone is fine. */
export async function removeArtefact(file: string, companionExtensions: readonly string[] = []): Promise<void> {
  await fs.rm(file, { force: true });
  for (const extension of companionExtensions) await fs.rm(companionPath(file, extension), { force: true });
  await fs.rm(manifestPath(file), { force: true });
}

/** A record alone (a measurement) at `file`, a JSON manifest: the record when it was made for `key`. */
export async function lookupRecord<Key, Record>(kind: ArtefactKind<Key>, file: string, key: Key): Promise<Record | undefined> {
  const bytes = await readIfExists(file);
  if (bytes === undefined) return undefined;
  const manifest = await readManifest<Key, Record>(kind, file, key, file, bytes);
  // An entry for other settings, or unreadable, is made again (and replaced).
  return 'reason' in manifest ? undefined : manifest.record;
}

export async function storeRecord<Key, Record>(kind: ArtefactKind<Key>, file: string, key: Key, record: Record): Promise<void> {
  const manifest: ArtefactManifest<Key, Record> = { format: kind.format, version: kind.version, keyHash: keyHash(key), key, record, createdAt: new Date().toISOString() };
  await writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
