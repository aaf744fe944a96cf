/** CPU time a child process has used, from /proc/<pid>/stat (Linux; undefined elsewhere). */
import { readFileSync } from 'node:fs';

// USER_HZ: the unit of utime/stime in /proc. It is 100 on every Linux architecture Node runs on
// (the kernel fixes it for user space independently of CONFIG_HZ).
const USER_HZ = 100;

/** User + system CPU seconds of a process, or undefined when it is gone or /proc is absent. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : undefined;
}
