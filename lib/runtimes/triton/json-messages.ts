/**
 * The JSON bodies of KServe v2 over HTTP (and Triton's JSON configuration and repository index),
 * read into the client's types with every field checked, so a server that answers something
 * else gets an error naming the field rather than an `undefined` further on.
 */
import { protocolError } from './errors';
import type { ConfigTensor, ModelConfigSummary, ModelMetadata, RepositoryModel, ServerMetadata, TensorMetadata } from './types';
import { datatypeOfConfigType } from './datatypes';

type Json = Record<string, unknown>;

export class JsonReader {
  constructor(
    readonly display: string,
    private readonly what: string,
  ) {}

  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw this.bad(field, 'an object', value);
    return value as Json;
  }

  string(value: unknown, field: string, fallback?: string): string {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'string') throw this.bad(field, 'a string', value);
    return value;
  }

  number(value: unknown, field: string, fallback?: number): number {
    if (value === undefined && fallback !== undefined) return fallback;
    // Triton's config JSON writes int64 fields as strings ("dims": ["3", "416"]).
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw this.bad(field, 'a number', value);
    return n;
  }

  array(value: unknown, field: string, fallback?: unknown[]): unknown[] {
    if (value === undefined && fallback !== undefined) return fallback;
    if (!Array.isArray(value)) throw this.bad(field, 'an array', value);
    return value;
  }

  private bad(field: string, expected: string, value: unknown) {
    const received = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 80);
    return protocolError(this.display, `${this.what}: expected ${expected} for ${field} but received ${received}`);
  }
}

export function parseJsonBody(display: string, what: string, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw protocolError(display, `${what}: the body is not JSON (${JSON.stringify(body.subarray(0, 80).toString('utf8'))})`);
  }
}

export function readServerMetadata(display: string, body: unknown): ServerMetadata {
  const r = new JsonReader(display, 'server metadata');
  const o = r.object(body, 'the body');
  return {
    name: r.string(o.name, 'name'),
    version: r.string(o.version, 'version', ''),
    extensions: r.array(o.extensions, 'extensions', []).map((e, i) => r.string(e, `extensions[${i}]`)),
  };
}

function readTensorMetadata(r: JsonReader, value: unknown, field: string): TensorMetadata {
  const o = r.object(value, field);
  return {
    name: r.string(o.name, `${field}.name`),
    datatype: r.string(o.datatype, `${field}.datatype`),
    shape: r.array(o.shape, `${field}.shape`).map((d, i) => r.number(d, `${field}.shape[${i}]`)),
  };
}

export function readModelMetadata(display: string, body: unknown): ModelMetadata {
  const r = new JsonReader(display, 'model metadata');
  const o = r.object(body, 'the body');
  return {
    name: r.string(o.name, 'name'),
    versions: r.array(o.versions, 'versions', []).map((v, i) => String(r.string(v, `versions[${i}]`))),
    platform: r.string(o.platform, 'platform', ''),
    inputs: r.array(o.inputs, 'inputs').map((t, i) => readTensorMetadata(r, t, `inputs[${i}]`)),
    outputs: r.array(o.outputs, 'outputs').map((t, i) => readTensorMetadata(r, t, `outputs[${i}]`)),
  };
}

function readConfigTensor(r: JsonReader, value: unknown, field: string): ConfigTensor {
  const o = r.object(value, field);
  const type = r.string(o.data_type, `${field}.data_type`);
  return {
    name: r.string(o.name, `${field}.name`),
    datatype: datatypeOfConfigType(type) ?? type,
    dims: r.array(o.dims, `${field}.dims`, []).map((d, i) => r.number(d, `${field}.dims[${i}]`)),
  };
}

/** Triton's GET /v2/models/NAME/config. */
export function readModelConfig(display: string, body: unknown): ModelConfigSummary {
  const r = new JsonReader(display, 'model configuration');
  const o = r.object(body, 'the body');
  const parameters: Record<string, string> = {};
  const rawParameters = o.parameters === undefined ? {} : r.object(o.parameters, 'parameters');
  for (const [key, value] of Object.entries(rawParameters)) {
    parameters[key] = r.string(r.object(value, `parameters.${key}`).string_value, `parameters.${key}.string_value`, '');
  }
  const groups = r.array(o.instance_group, 'instance_group', []);
  return {
    name: r.string(o.name, 'name'),
    platform: r.string(o.platform, 'platform', ''),
    backend: r.string(o.backend, 'backend', ''),
    maxBatchSize: r.number(o.max_batch_size, 'max_batch_size', 0),
    inputs: r.array(o.input, 'input', []).map((t, i) => readConfigTensor(r, t, `input[${i}]`)),
    outputs: r.array(o.output, 'output', []).map((t, i) => readConfigTensor(r, t, `output[${i}]`)),
    parameters,
    dynamicBatching: o.dynamic_batching !== undefined && o.dynamic_batching !== null,
    instances: groups.reduce<number>((sum, g, i) => sum + r.number(r.object(g, `instance_group[${i}]`).count, `instance_group[${i}].count`, 1), 0),
  };
}

/** Triton's POST /v2/repository/index. */
export function readRepositoryIndex(display: string, body: unknown): RepositoryModel[] {
  const r = new JsonReader(display, 'repository index');
  return r.array(body, 'the body').map((entry, i) => {
    const o = r.object(entry, `[${i}]`);
    return {
      name: r.string(o.name, `[${i}].name`),
      ...(o.version !== undefined ? { version: String(o.version) } : {}),
      ...(o.state !== undefined ? { state: r.string(o.state, `[${i}].state`) } : {}),
      ...(o.reason !== undefined && o.reason !== '' ? { reason: r.string(o.reason, `[${i}].reason`) } : {}),
    };
  });
}
