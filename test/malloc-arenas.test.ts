/**
 * limitMallocArenas (the core addon's mallopt(M_ARENA_MAX)): what `int8-detect serve` calls before
 * its engines start, so a long-running server keeps fewer glibc arenas (docs/serve.md, memory).
 */
import test from 'ava';
import { loadCoreAddon } from '../lib/native/core-addon';

const isGlibc = process.platform === 'linux' && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);

// An allocator preloaded in glibc's place (AddressSanitizer in scripts/asan-core.sh, jemalloc,
// tcmalloc) answers mallopt itself and refuses M_ARENA_MAX.
const replacedAllocator = /asan|jemalloc|tcmalloc|mimalloc/i.test(process.env.LD_PRELOAD ?? '');

test('limitMallocArenas applies on glibc, says false elsewhere, and refuses a bad count naming it', (t) => {
  const core = loadCoreAddon();
  t.is(typeof core.limitMallocArenas, 'function');
  t.is(core.limitMallocArenas!(8), isGlibc && !replacedAllocator);
  for (const bad of [0, 65, 1.5, '2', undefined]) {
    const err = t.throws(() => core.limitMallocArenas!(bad as number));
    t.is((err as { code?: string }).code, 'ERR_ARGUMENT');
    t.regex(err!.message, /Expected an integer from 1 to 64 for count/);
  }
});
