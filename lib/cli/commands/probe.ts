/** `int8-detect probe`: what can run here, on which devices, and why a backend was skipped. */
import { chooseBackend, probe } from '../../probe';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

export const probeCommand: Command = {
  name: 'probe',
  summary: 'show the backends and devices this machine can use, and why others cannot run',
  help: `Usage: int8-detect probe [--json]

Lists each backend (tensorrt, openvino, onnxruntime) with its version and devices, or the reason it
cannot run here; the NVIDIA GPUs the CUDA driver reports; a Jetson's model; the CPU's INT8 features;
and which backend 'auto' would choose.

Options:
      --json    print the whole report as one JSON object
  -h, --help    show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, false);
    const report = await probe();
    const auto = chooseBackend(report, 'auto');
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...report, auto }, null, 2)}\n`);
      return;
    }
    const lines: string[] = [];
    for (const [name, b] of Object.entries(report.backends)) {
      lines.push(
        b.available
          ? `${name.padEnd(12)} available   ${b.version ?? ''}  devices: ${b.devices.join(', ')}`
          : `${name.padEnd(12)} unavailable ${b.reason ?? ''}`,
      );
    }
    lines.push('');
    lines.push(
      report.cuda.available
        ? `NVIDIA GPUs: ${report.cuda.devices.map((d) => `${d.name} (compute ${d.computeCapability}, ${(d.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB)`).join('; ') || 'none'}`
        : `NVIDIA GPUs: none (${report.cuda.reason ?? 'no driver'})`,
    );
    if (report.jetson) lines.push(`Jetson: ${report.jetson.model}${report.jetson.l4tRelease ? `, L4T ${report.jetson.l4tRelease}` : ''}`);
    lines.push(`CPU: ${report.cpu.model} (${report.cpu.cores} threads): ${report.cpu.int8Summary}`);
    lines.push('');
    lines.push(`auto -> ${auto.backend}: ${auto.reason}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
