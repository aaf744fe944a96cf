/** Run the built CLI in a child process, as a user would. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

export const cliPath = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { timeout: options.timeoutMs ?? 240_000, maxBuffer: 64 * 2 ** 20, env: { ...process.env, ...options.env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
