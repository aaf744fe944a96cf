#!/usr/bin/env node
// FP32 against INT8 latency on ONNX Runtime CPU, side by side: both engines open at once, raw
// inference timed in interleaved rounds (medians), then each model's per-operator profile (where
// the time goes). Prints the CPU's INT8 features beside the figures. Needs the built library.
//   node scripts/bench-int8.js --fp32 M.onnx --int8 M.int8.onnx [--rounds 7] [--iterations 20] [--threads N]
'use strict';
const { promises: fs } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist', 'lib');
const { createEngine } = require(path.join(dist, 'engine.js'));
const { median } = require(path.join(dist, 'util', 'statistics.js'));
const { cpuInfo } = require(path.join(dist, 'hardware', 'cpu.js'));

async function timeRun(engine, input, iterations) {
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await engine.infer(input);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

/** Total time per operator type from an ONNX Runtime profile (node events only). */
async function profileByOp(modelPath, input, threads, runs) {
  const prefix = path.join(os.tmpdir(), `ort-profile-${process.pid}-${path.basename(modelPath)}`);
  const engine = await createEngine({ model: modelPath, backend: 'onnxruntime', profileFilePrefix: prefix, ...(threads ? { threads } : {}) });
  for (let i = 0; i < runs; i++) await engine.infer(input);
  await engine.dispose();
  const dir = path.dirname(prefix);
  const files = (await fs.readdir(process.cwd())).filter((f) => f.startsWith(path.basename(prefix))).map((f) => path.join(process.cwd(), f));
  files.push(...(await fs.readdir(dir)).filter((f) => f.startsWith(path.basename(prefix))).map((f) => path.join(dir, f)));
  const byOp = new Map();
  for (const file of new Set(files)) {
    const events = JSON.parse(await fs.readFile(file, 'utf8'));
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? 'unknown';
      byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000 / runs);
    }
    await fs.rm(file, { force: true });
  }
  return [...byOp.entries()].sort((a, b) => b[1] - a[1]);
}

async function main() {
  const { values } = parseArgs({
    options: {
      fp32: { type: 'string' },
      int8: { type: 'string' },
      rounds: { type: 'string', default: '7' },
      iterations: { type: 'string', default: '20' },
      threads: { type: 'string' },
    },
  });
  const threads = values.threads ? Number(values.threads) : undefined;
  const engines = {
    fp32: await createEngine({ model: values.fp32, backend: 'onnxruntime', ...(threads ? { threads } : {}) }),
    int8: await createEngine({ model: values.int8, backend: 'onnxruntime', ...(threads ? { threads } : {}) }),
  };
  const spec = engines.fp32.info.preprocess;
  const input = new Float32Array(3 * spec.width * spec.height);
  for (let i = 0; i < input.length; i++) input[i] = ((i * 2654435761) % 997) / (spec.scale < 0.5 ? 997 : 3.91);
  for (const e of Object.values(engines)) await timeRun(e, input, 5);
  const rounds = { fp32: [], int8: [], ratio: [] };
  for (let r = 0; r < Number(values.rounds); r++) {
    const order = r % 2 === 0 ? ['fp32', 'int8'] : ['int8', 'fp32'];
    const got = {};
    for (const k of order) got[k] = await timeRun(engines[k], input, Number(values.iterations));
    rounds.fp32.push(got.fp32);
    rounds.int8.push(got.int8);
    rounds.ratio.push(got.int8 / got.fp32);
  }
  for (const e of Object.values(engines)) await e.dispose();
  const cpu = cpuInfo();
  console.log(`cpu: ${cpu.model}, ${cpu.cores} cores, ${cpu.int8Summary}; features ${JSON.stringify(Object.fromEntries(Object.entries(cpu.features).filter(([, v]) => v)))}`);
  console.log(`threads ${threads ?? 'default'}, ${values.rounds} interleaved rounds x ${values.iterations} runs`);
  console.log(`FP32 median ${median(rounds.fp32).toFixed(2)} ms   INT8 median ${median(rounds.int8).toFixed(2)} ms   INT8/FP32 ${median(rounds.ratio).toFixed(3)} (median of per-round ratios)`);
  for (const [label, file] of [['FP32', values.fp32], ['INT8', values.int8]]) {
    const ops = await profileByOp(file, input, threads, 20);
    const total = ops.reduce((a, [, ms]) => a + ms, 0);
    console.log(`${label} profile (ms per run by operator, total ${total.toFixed(2)}): ${ops.slice(0, 10).map(([op, ms]) => `${op} ${ms.toFixed(2)}`).join(', ')}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
