#!/usr/bin/env node
// Runs the ava suite and ends with the one summary line CI reads: "N passed, N failed, N skipped".
// ava's TAP reporter gives exact counts in its trailer; everything it prints is passed through
// unchanged. The counts are also kept from the test lines themselves ("ok N - ...", "not ok N -
// ...", "# SKIP"), because ava 7's TAP reporter can die before its trailer (a TypeError in
// writeTimeout when a test times out): then the line still reports what ran, and the failure.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

// ava 7 exports no path to its CLI entry; it sits beside the main entry point.
const avaCli = path.join(path.dirname(require.resolve('ava')), 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {
  cwd: path.resolve(__dirname, '..'),
  stdio: ['ignore', 'pipe', 'pipe'],
});

const trailer = {};
const seen = { pass: 0, fail: 0, skip: 0 };
let stderrTail = '';

function readLine(line) {
  const total = /^# (pass|fail|skip|todo) (\d+)\s*$/.exec(line);
  if (total) {
    trailer[total[1]] = Number(total[2]);
    return;
  }
  const result = /^(not )?ok \d+ - .*?(# SKIP.*)?$/.exec(line);
  if (!result) return;
  if (result[2]) seen.skip++;
  else if (result[1]) seen.fail++;
  else seen.pass++;
}

function lineReader(write) {
  let pending = '';
  return {
    data(chunk) {
      write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(readLine);
    },
    end() {
      if (pending) readLine(pending);
    },
  };
}

const out = lineReader((chunk) => process.stdout.write(chunk));
child.stdout.on('data', out.data);
child.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000);
});

child.on('close', (code, signal) => {
  out.end();
  const complete = trailer.pass !== undefined && trailer.fail !== undefined;
  const counts = complete ? { pass: trailer.pass, fail: trailer.fail, skip: trailer.skip ?? 0 } : seen;
  // A run that failed without a failing test line (a crash, a timeout, an unhandled rejection in a hook) is one failure more.
  const failed = counts.fail + (code !== 0 && counts.fail === 0 ? 1 : 0);
  if (!complete) {
    const reason = /TypeError: Cannot set properties of undefined \(setting 'name'\)[\s\S]*writeTimeout/.test(stderrTail)
      ? 'a test timed out (ava reports no activity for longer than its timeout), and its TAP reporter crashed on it'
      : `ava ended (${signal ?? `exit code ${code}`}) before its summary`;
    process.stdout.write(`\nrun-tests: ${reason}; the counts below are those of the test lines printed before that.\n`);
  } else if (code !== 0 && counts.fail === 0) {
    // ava fails a run for more than failed tests, and its TAP reporter prints nothing for some of
    // them: its inactivity timeout firing while no test is pending (a test file's process that
    // did not exit after its last test: a handle left open) is one. Say how it ended, and what it
    // last wrote to stderr, so the log names it.
    process.stdout.write(
      `\nrun-tests: ava ended with ${signal ?? `exit code ${code}`} although no test line failed ` +
        `(without a stderr message below: a test file's process outlived its tests, a handle left open, until ava's timeout); ` +
        `the last of its stderr:\n${stderrTail.slice(-1500)}\n`,
    );
  }
  process.stdout.write(`\n${counts.pass} passed, ${failed} failed, ${counts.skip} skipped\n`);
  process.exit(code ?? 1);
});
