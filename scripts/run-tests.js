#!/usr/bin/env node
// Runs the ava suite and ends with the one summary line CI reads: "N passed, N failed, N skipped".
// ava's TAP reporter gives exact counts; everything it prints is passed through unchanged.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

// ava 7 exports no path to its CLI entry; it sits beside the main entry point.
const avaCli = path.join(path.dirname(require.resolve('ava')), 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {
  cwd: path.resolve(__dirname, '..'),
  stdio: ['ignore', 'pipe', 'inherit'],
});

const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^# (pass|fail|skip|todo) (\d+)\s*$/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
  }
});
child.on('close', (code) => {
  const m = /^# (pass|fail|skip|todo) (\d+)\s*$/.exec(pending);
  if (m) counts[m[1]] = Number(m[2]);
  const failed = counts.fail + (code !== 0 && counts.fail === 0 ? 1 : 0);
  process.stdout.write(`\n${counts.pass} passed, ${failed} failed, ${counts.skip} skipped\n`);
  process.exit(code ?? 1);
});
