/**
 * The backends this process knows, in priority order (onnxruntime-node's registerBackend habit).
 * Each runtime's folder exports a descriptor; lib/runtimes/builtin.ts registers the built-in ones,
 * one line each. Nothing here names a runtime.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { BackendDescriptor, BackendName } from './backend';

const descriptors = new Map<string, BackendDescriptor>();

function isDescriptor(value: unknown): value is BackendDescriptor {
  const d = value as BackendDescriptor;
  return (
    typeof d === 'object' && d !== null && typeof d.name === 'string' && /^[a-z][a-z0-9-]*$/.test(d.name) && typeof d.title === 'string' &&
    typeof d.priority === 'number' && typeof d.probe === 'function' && typeof d.open === 'function' &&
    typeof d.capabilities === 'object' && d.capabilities !== null
  );
}

/** Adds a backend (or replaces the one of the same name). */
export function registerBackend(descriptor: BackendDescriptor): void {
  if (!isDescriptor(descriptor)) {
    throw invalidArgument('a backend descriptor { name, title, priority, capabilities, probe, open }', 'registerBackend(descriptor)', descriptor);
  }
  if ((descriptor.name as string) === 'auto') throw invalidArgument("a backend name other than 'auto'", 'descriptor.name', descriptor.name);
  descriptors.set(descriptor.name, descriptor);
}

/** Every registered backend, highest priority first (the order backend 'auto' tries them in). */
export function registeredBackends(): BackendDescriptor[] {
  return [...descriptors.values()].sort((a, b) => b.priority - a.priority);
}

export function isBackendName(name: unknown): name is BackendName {
  return typeof name === 'string' && descriptors.has(name);
}

/** The descriptor of a registered backend; ERR_ARGUMENT listing the registered ones otherwise. */
export function backendDescriptor(name: string): BackendDescriptor {
  const descriptor = descriptors.get(name);
  if (!descriptor) {
    throw new Int8DetectError('ERR_ARGUMENT', `Unknown backend '${name}': this build of int8-detect has ${registeredBackends().map((d) => `'${d.name}'`).join(', ')}`);
  }
  return descriptor;
}

/** The runtime that ships inside the package: float statistics are measured on it wherever they must not depend on the target runtime. */
export function embeddedBackend(): BackendDescriptor {
  const embedded = registeredBackends().find((d) => d.capabilities.embedded && d.statisticsSession);
  if (!embedded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', 'No embedded backend with float statistics is registered');
  return embedded;
}
