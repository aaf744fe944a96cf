/**
 * Class names: from a labels file, from a model's Ultralytics `names` metadata, from COCO when the
 * model has 80 classes, else `class <id>`. Names are keyed by class id, so sparse sources (a JSON
 * object, a dict literal missing an id) leave gaps that fall back to `class <id>`.
 */
import * as fs from 'node:fs';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { COCO_CLASS_NAMES } from './coco-names';

export type LabelMap = Map<number, string>;

/** Where the labels came from, for the profile's reason. */
export type LabelSource = 'option' | 'file' | 'metadata' | 'coco' | 'generic';

export interface ResolvedLabels {
  labels: string[];
  source: LabelSource;
  /** A few words for the profile's reason, e.g. "labels from model metadata (80 names)". */
  description: string;
}

/**
 * Parse the text of a labels file: a JSON array of names, a JSON object {"0": "person"}, a Python
 * dict or list literal (as copied from Ultralytics metadata), or one name a line (blank lines
 * skipped, surrounding spaces trimmed).
 */
export function parseLabelsText(text: string, source = 'labels'): LabelMap {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body.startsWith('[') || body.startsWith('{')) {
    const fromJson = parseJsonLabels(body, source);
    if (fromJson) return fromJson;
    const fromPython = parseUltralyticsNames(body);
    if (fromPython) return fromPython;
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `Expected a JSON array of names, a JSON object {"0": "name"} or one name a line in ${source}, but it starts with "${body.slice(0, 40)}" and is neither valid JSON nor a Python literal`,
    );
  }
  const map: LabelMap = new Map();
  let id = 0;
  for (const line of body.split(/\r?\n/)) {
    const name = line.trim();
    if (name !== '') map.set(id++, name);
  }
  return map;
}

/** Read and parse a labels file; a missing or unreadable file is an ERR_ARGUMENT naming its path. */
export function readLabelsFile(path: string): LabelMap {
  if (typeof path !== 'string' || path === '') throw invalidArgument('a labels file path', 'labels', path);
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the labels file ${path}: ${reason}`, { cause: err });
  }
  return parseLabelsText(text, path);
}

function parseJsonLabels(body: string, source: string): LabelMap | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  const map: LabelMap = new Map();
  if (Array.isArray(value)) {
    value.forEach((name, id) => {
      if (typeof name !== 'string') throw invalidArgument('a string class name', `${source}[${id}]`, name);
      map.set(id, name);
    });
    return map;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, name] of Object.entries(value as Record<string, unknown>)) {
      if (!/^\d+$/.test(key)) throw invalidArgument('class ids as non-negative integer keys', source, key);
      if (typeof name !== 'string') throw invalidArgument('a string class name', `${source}["${key}"]`, name);
      map.set(Number(key), name);
    }
    return map;
  }
  return null;
}

/**
 * Parse Ultralytics' `names` metadata: Python's str() of a dict {0: 'person', ...} (or, in older
 * exports, a list ['person', ...]). Handles both quote kinds, backslash escapes, and names with
 * commas, colons or braces. Returns null when the text is not such a literal.
 */
export function parseUltralyticsNames(text: string): LabelMap | null {
  const p = new LiteralParser(text);
  try {
    const map = p.parseNames();
    p.skipSpace();
    return p.atEnd() ? map : null;
  } catch (err) {
    if (err instanceof LiteralSyntaxError) return null;
    throw err;
  }
}

class LiteralSyntaxError extends Error {}

/** A recursive-descent reader for the small subset of Python literals `names` uses. */
class LiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  parseNames(): LabelMap {
    this.skipSpace();
    const open = this.text[this.pos];
    if (open !== '{' && open !== '[') this.fail();
    const close = open === '{' ? '}' : ']';
    this.pos++;
    const map: LabelMap = new Map();
    let index = 0;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return map;
      }
      let id = index++;
      if (open === '{') {
        id = this.parseKey();
        this.skipSpace();
        this.expect(':');
        this.skipSpace();
      }
      map.set(id, this.parseString());
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail();
    }
  }

  /** An integer key, bare (Python) or quoted (JSON-like). */
  private parseKey(): number {
    const c = this.text[this.pos];
    const raw = c === "'" || c === '"' ? this.parseString() : this.readWhile(/[0-9]/);
    if (!/^\d+$/.test(raw)) this.fail();
    return Number(raw);
  }

  private parseString(): string {
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') this.fail();
    this.pos++;
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      out += this.parseEscape();
    }
    return this.fail();
  }

  private parseEscape(): string {
    const e = this.text[this.pos++];
    switch (e) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '\\':
      case "'":
      case '"':
        return e;
      case 'x':
        return this.codePoint(2);
      case 'u':
        return this.codePoint(4);
      case 'U':
        return this.codePoint(8);
      case undefined:
        return this.fail();
      default:
        // Python keeps unknown escapes as written.
        return `\\${e}`;
    }
  }

  private codePoint(digits: number): string {
    const hex = this.text.slice(this.pos, this.pos + digits);
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail();
    this.pos += digits;
    return String.fromCodePoint(parseInt(hex, 16));
  }

  private readWhile(pattern: RegExp): string {
    const start = this.pos;
    while (this.pos < this.text.length && pattern.test(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private expect(c: string): void {
    if (this.text[this.pos] !== c) this.fail();
    this.pos++;
  }

  private fail(): never {
    throw new LiteralSyntaxError(`unexpected text at ${this.pos}`);
  }
}

/** A dense list of numClasses names, `class <id>` where the map has none. */
export function labelsFromMap(map: LabelMap, numClasses: number): string[] {
  const labels: string[] = [];
  for (let id = 0; id < numClasses; id++) labels.push(map.get(id) ?? `class ${id}`);
  return labels;
}

export interface LabelSources {
  numClasses: number;
  /** Explicit labels: names in class order, or the path of a labels file. */
  override?: readonly string[] | string;
  /** The model's metadata_props. */
  metadata?: Record<string, string>;
}

/** Pick the labels: explicit names or file, then model metadata, then COCO for 80 classes, then `class <id>`. */
export function resolveLabels({ numClasses, override, metadata }: LabelSources): ResolvedLabels {
  if (typeof override === 'string') {
    const map = readLabelsFile(override);
    return { labels: labelsFromMap(map, numClasses), source: 'file', description: `labels from ${override} (${map.size} names)` };
  }
  if (override !== undefined) {
    if (!Array.isArray(override) || override.some((name) => typeof name !== 'string')) {
      throw invalidArgument('an array of class names or a labels file path', 'labels', override);
    }
    const map: LabelMap = new Map(override.map((name, id) => [id, name]));
    return { labels: labelsFromMap(map, numClasses), source: 'option', description: `labels from the labels option (${map.size} names)` };
  }
  const names = metadata?.names;
  if (names !== undefined) {
    const map = parseUltralyticsNames(names);
    if (map && map.size > 0) {
      return { labels: labelsFromMap(map, numClasses), source: 'metadata', description: `labels from model metadata (${map.size} names)` };
    }
  }
  const unreadable = names !== undefined ? ' (its names metadata could not be parsed)' : '';
  if (numClasses === COCO_CLASS_NAMES.length) {
    return { labels: [...COCO_CLASS_NAMES], source: 'coco', description: `COCO labels for its 80 classes${unreadable}` };
  }
  return {
    labels: labelsFromMap(new Map(), numClasses),
    source: 'generic',
    description: `generic labels "class <id>" for its ${numClasses} classes${unreadable}`,
  };
}
