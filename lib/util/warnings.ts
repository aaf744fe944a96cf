/**
 * Warnings the library raises (a guessed model family, ...), through Node's process warnings so
 * they reach stderr by default and a program can listen for them ('warning' events). Each is an
 * Int8DetectError named Int8DetectWarning, so the CLI can name its flags in it; each distinct
 * message is emitted once per process (mixed precision opens the same model dozens of times).
 */
import { Int8DetectError } from './errors';

const emitted = new Set<string>();

export const WARNING_NAME = 'Int8DetectWarning';

export function warnOnce(warning: Int8DetectError): void {
  if (emitted.has(warning.message)) return;
  emitted.add(warning.message);
  warning.name = WARNING_NAME;
  process.emitWarning(warning);
}
