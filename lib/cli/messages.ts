/** How the CLI words what it prints: errors with flag names, and what its exit codes mean. */
import { Int8DetectError } from '../util/errors';
import { cliOptionSpeller } from './option-flags';

/** What the exit code says; printed by --help and documented in the README. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done
  1  failed: a model, image, video source or file could not be used (the message says which), or
     some inputs of a folder could not be read (detect goes on and counts them)
  2  usage: an unknown command or flag, a missing or invalid flag value, or an output that would
     replace an input or an existing file (--force)
  3  an unexpected internal error (a bug: rerun with INT8_DETECT_DEBUG=1 for the stack and report it)`;

/** A message as the CLI says it: library option names written as flags. */
export function cliMessage(err: unknown): string {
  if (err instanceof Int8DetectError) return err.messageFor(cliOptionSpeller);
  return err instanceof Error ? err.message : String(err);
}

