/** What the CUDA driver probe saw (native/core/cuda_probe.cc), in words, for TensorRT's probe reason. */
import type { NativeCudaProbe } from '../../native/core-addon';
import type { JetsonInfo } from '../../hardware/jetson';

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** 12040 -> "12.4", as cuDriverGetVersion encodes it (1000 * major + 10 * minor). */
function cudaVersionText(version: number): string {
  return `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}`;
}

export function describeCuda(cuda: NativeCudaProbe, jetson: JetsonInfo | null): string {
  const board = jetson ? ` on ${jetson.model}${jetson.l4tRelease ? ` (L4T ${jetson.l4tRelease})` : ''}` : '';
  if (!cuda.available) return `CUDA probe${board}: ${cuda.reason ?? 'not available'}`;
  const driver = cuda.driverVersion !== undefined ? ` (driver API ${cudaVersionText(cuda.driverVersion)})` : '';
  const gpus = cuda.devices
    .map((device) => `${device.name} (compute capability ${device.computeCapability}, ${gib(device.totalMemoryBytes)})`)
    .join(', ');
  const count = cuda.devices.length;
  return `CUDA probe${board}: ${count} NVIDIA GPU${count === 1 ? '' : 's'} found${driver}: ${gpus}`;
}
