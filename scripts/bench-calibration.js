#!/usr/bin/env node
/**
 * Calibration statistics speed. Build first (npm run build), then:
 *
 *   node scripts/bench-calibration.js [--rounds 15] [--bins 2048]
 *
 * add(): one 1x32x208x208 float tensor (5.5 MB) per call, for several distributions, in
 * interleaved rounds (each round times every distribution once); medians in ms and MB/s, of
 * wall time and of this process's CPU time (the steadier figure on a shared machine).
 * Range methods: each method's time on the filled histogram, symmetric and asymmetric, medians.
 */
const { cpuInfo } = require('../dist/lib/hardware/cpu');
const { median } = require('../dist/lib/util/statistics');
const { ActivationStatistics, RANGE_METHODS } = require('../dist/lib/quantize/statistics');
const { syntheticDistributions } = require('../dist/test/helpers/calibration-reference');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const rounds = flag('rounds', 15);
const bins = flag('bins', 2048);
const elements = 32 * 208 * 208;

const cpu = cpuInfo();
console.log(`CPU: ${cpu.model}, ${cpu.cores} logical cores; INT8: ${cpu.int8Summary}`);
console.log(`Node ${process.versions.node}; ${rounds} interleaved rounds; ${bins} bins; tensor 1x32x208x208 = ${((elements * 4) / 1e6).toFixed(2)} MB\n`);

const sources = syntheticDistributions(elements);
const names = ['gaussian', 'relu-like', 'silu-like', 'laplacian with outliers', 'all zeros'];
const collectors = Object.fromEntries(names.map((n) => [n, new ActivationStatistics(n, { bins })]));
const times = Object.fromEntries(names.map((n) => [n, []]));
const cpuTimes = Object.fromEntries(names.map((n) => [n, []]));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
for (const n of names) collectors[n].add(sources[n]); // warm-up, and the lattice settles
for (let r = 0; r < rounds; r++) {
  for (const n of names) {
    const cpuStart = cpuMs();
    const start = process.hrtime.bigint();
    collectors[n].add(sources[n]);
    times[n].push(Number(process.hrtime.bigint() - start) / 1e6);
    cpuTimes[n].push(cpuMs() - cpuStart);
  }
}
console.log('add() per 1x32x208x208 tensor     wall ms    MB/s    CPU ms    MB/s');
for (const n of names) {
  const ms = median(times[n]);
  const cpu = median(cpuTimes[n]);
  const rate = (t) => ((elements * 4) / 1e3 / t).toFixed(0).padStart(7);
  console.log(`  ${n.padEnd(30)} ${ms.toFixed(3).padStart(8)} ${rate(ms)} ${cpu.toFixed(3).padStart(9)} ${rate(cpu)}`);
}

console.log('\nrange method on the histogram       median ms (symmetric / asymmetric)');
const methodTimes = {};
for (let r = 0; r < Math.max(5, Math.floor(rounds / 3)); r++) {
  for (const n of names) {
    for (const method of [...RANGE_METHODS, 'error', 'chooseRange']) {
      for (const symmetric of [true, false]) {
        const key = `${n}|${method}|${symmetric}`;
        const stats = collectors[n];
        const start = process.hrtime.bigint();
        if (method === 'error') stats.quantizationError({ min: stats.min, max: stats.max }, symmetric);
        else if (method === 'chooseRange') stats.chooseRange(symmetric);
        else stats.range(method, symmetric);
        (methodTimes[key] ??= []).push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
  }
}
for (const n of names) {
  const parts = [...RANGE_METHODS, 'error', 'chooseRange'].map(
    (m) => `${m} ${median(methodTimes[`${n}|${m}|true`]).toFixed(2)}/${median(methodTimes[`${n}|${m}|false`]).toFixed(2)}`,
  );
  console.log(`  ${n.padEnd(26)} ${parts.join('  ')}`);
}
