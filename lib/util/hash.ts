/** Hashing for cache keys and artefact digests. */
import { createHash } from 'node:crypto';

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** JSON with object keys sorted at every level, so equal keys hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash of a cache key: its canonical JSON's SHA-256. */
export function keyHash(key: unknown): string {
  return sha256(canonicalJson(key));
}

/** A file name part made of a free text (a model's base name): safe on every file system. */
export function fileSlug(text: string, fallback = 'x'): string {
  return text.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^-+|-+$/g, '') || fallback;
}
