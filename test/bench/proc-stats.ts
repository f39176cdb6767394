// Helpers shared by the benchmarks that run peers as processes (interop, h3load): CPU seconds from
// /proc and the median of a few runs.
import { readFileSync } from 'node:fs';

/** Linux USER_HZ: /proc times are in 1/100 s on every mainstream architecture. */
const TICK = 0.01;

/** utime + stime (fields 14, 15) or cutime + cstime (16, 17) of /proc/PID/stat, in seconds; NaN off Linux. */
export function procCpu(pid: number | 'self', children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): field n is f[n - 3].
    const a = children ? 13 : 11;
    return (Number(f[a]) + Number(f[a + 1])) * TICK;
  } catch {
    return NaN;
  }
}

/** Median of the values (NaN for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
