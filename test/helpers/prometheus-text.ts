/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for the tests: it
 * throws on anything a Prometheus server would refuse or that makes no sense (a bad name, a bad
 * escape, a sample before its family's TYPE, a family split in two, a duplicate series, a histogram
 * whose buckets shrink or whose +Inf bucket is not its count).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (with _bucket, _sum, _count for histograms). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function parseValue(text: string, line: number): number {
  // Prometheus reads values with Go's strconv.ParseFloat, which takes these words in any case
  // (prom-client writes 'Nan' for an event-loop-lag gauge with no samples yet).
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: '${text}' is not a sample value`);
  return Number(text);
}

/** Labels from the text after '{', to its closing '}'; returns them and the rest of the line. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: a label without '='`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: '${name}' is not a label name`);
    if (name in labels) throw new Error(`line ${line}: the label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: the value of ${name} is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: the escape \\${next} in a label value`);
      } else {
        value += text[j];
      }
    }
    if (j >= text.length) throw new Error(`line ${line}: an unterminated label value`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected ',' or '}' after a label`);
  }
}

/** The family a sample name belongs to: histograms and summaries own their _bucket/_sum/_count samples. */
function familyOf(name: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket'))) return base;
  }
  return undefined;
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
    else if (s.name.endsWith('_sum')) entry.sum = s.value;
    else throw new Error(`${family.name}: the sample ${s.name} in a histogram`);
  }
  for (const [key, e] of series) {
    if (e.count === undefined || e.sum === undefined) throw new Error(`${family.name}${key}: no _count or _sum`);
    const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.length === 0 || sorted[sorted.length - 1][0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`${family.name}${key}: buckets are not cumulative`);
    if (sorted[sorted.length - 1][1] !== e.count) throw new Error(`${family.name}${key}: the +Inf bucket is not the count`);
  }
}

export function parsePrometheusText(text: string): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: MetricFamily | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition does not end with a newline');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: '${name}' is not a metric name`);
      if (finished.has(name)) throw new Error(`line ${line}: the family ${name} appears twice`);
      let family = families.get(name);
      if (!family) {
        if (current && current.name !== name) finished.add(current.name);
        family = { name, help: '', type: 'untyped', samples: [] };
        families.set(name, family);
        current = family;
      }
      if (kind === 'TYPE') {
        if (!TYPES.includes(rest as MetricType)) throw new Error(`line ${line}: unknown type '${rest}'`);
        if (family.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        family.type = rest as MetricType;
      } else {
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      return;
    }
    const nameMatch = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(raw);
    if (!nameMatch) throw new Error(`line ${line}: no metric name`);
    const name = nameMatch[1];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), line));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`line ${line}: expected a value and an optional timestamp`);
    const value = parseValue(parts[0], line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: '${parts[1]}' is not a timestamp`);
    let family = familyOf(name, families);
    if (!family) {
      family = { name, help: '', type: 'untyped', samples: [] };
      families.set(name, family);
    }
    if (finished.has(family.name)) throw new Error(`line ${line}: a sample of ${family.name} after another family began`);
    if (current && current !== family) finished.add(current.name);
    current = family;
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${line}: the series ${key} twice`);
    seen.add(key);
    if ((family.type === 'counter' && (value < 0 || Number.isNaN(value))) || (name.endsWith('_count') && value < 0)) throw new Error(`line ${line}: a negative count`);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return [...families.values()];
}
