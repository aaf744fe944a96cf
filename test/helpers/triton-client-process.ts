/**
 * One Node process of the "several processes share one server" test: an Engine on the triton
 * backend with `concurrency` requests in flight, detecting every image given `rounds` times; it
 * prints { pid, detections: [[image 0's], [image 1's], ...] } of the first round and whether the
 * other rounds gave the same.
 *   node triton-client-process.js URL MODEL CONCURRENCY ROUNDS IMAGE...
 */
import { createEngine } from '../../lib/engine';

async function main(): Promise<void> {
  const [url, model, concurrencyText, roundsText, ...images] = process.argv.slice(2);
  const concurrency = Number(concurrencyText);
  const engine = await createEngine({ backend: 'triton', model, concurrency, triton: { url } });
  try {
    const jobs = Array.from({ length: Number(roundsText) }, () => images).flat();
    const results: unknown[] = new Array(jobs.length);
    let next = 0;
    // `concurrency` workers, each taking the next job: that many requests stay in flight.
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) {
          const i = next++;
          results[i] = await engine.detect(jobs[i]);
        }
      }),
    );
    const first = results.slice(0, images.length);
    const stable = results.every((r, i) => JSON.stringify(r) === JSON.stringify(first[i % images.length]));
    process.stdout.write(`${JSON.stringify({ pid: process.pid, stable, detections: first })}\n`);
  } finally {
    await engine.dispose();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
