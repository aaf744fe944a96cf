/**
 * Whether an optional runtime module loads here, known synchronously when a test file is read
 * (ava decides test.skip up front). The library's loader is asynchronous, so a child process asks
 * it and prints the answer: test-only code, never on the library's path.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export interface RuntimeStatusSync {
  loaded: boolean;
  reason?: string;
  version?: string;
  devices: string[];
}

export function runtimeStatusSync(backend: string): RuntimeStatusSync {
  const probe = path.join(__dirname, '..', '..', 'lib', 'probe.js');
  const script = `require(${JSON.stringify(probe)}).probe().then((r) => { const b = r.backends[${JSON.stringify(backend)}]; process.stdout.write(JSON.stringify({ loaded: b.available || b.version !== undefined, reason: b.reason, version: b.version, devices: b.devices })); })`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (child.status !== 0) return { loaded: false, reason: `the probe failed in a child process: ${child.stderr.trim().split('\n').pop() ?? child.status}`, devices: [] };
  return JSON.parse(child.stdout) as RuntimeStatusSync;
}
