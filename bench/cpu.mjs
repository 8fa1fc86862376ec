// CPU time per request, of the server's processes and of the whole machine,
// over one wrk run. On a machine whose few cores the servers and wrk share,
// req/s is decided by what each request costs all of them together, so this
// is the figure that says why a server is as fast as it is.
//
// A process's time is utime + stime + cutime + cstime from /proc/PID/stat:
// the children it waited for during the run (CGI scripts under portico's
// spawner) count towards it. A process that exits during the run without
// such a parent is missed: measured, the CGI scripts of Apache's cgid and of
// fcgiwrap do not show in their servers' figures, so CGI servers are to be
// compared by the machine's figure, which counts everything.
import { readFileSync } from 'node:fs';
import { readStat } from './process-group.mjs';

/** Linux reports times in USER_HZ ticks, 100 a second on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** Busy ticks of the whole machine: all but idle and iowait, from /proc/stat. */
export function machineBusyTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

function ticksOf(pids) {
  const ticks = new Map();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) ticks.set(pid, stat.cpuTicks);
  }
  return ticks;
}

/**
 * Starts measuring; stop() returns { server, machine, processes } in CPU
 * seconds spent since: server over the processes pidsFn() lists at start and
 * at stop, processes the same one by one ({ pid, comm, seconds }: portico's
 * front apart from its worker).
 */
export function startCpuMeter(pidsFn) {
  const before = ticksOf(pidsFn());
  const machineBefore = machineBusyTicks();
  return {
    stop() {
      const machine = machineBusyTicks() - machineBefore;
      let server = 0;
      const processes = [];
      for (const [pid, ticks] of ticksOf(pidsFn())) {
        const spent = ticks - (before.get(pid) ?? 0);
        server += spent;
        processes.push({ pid, comm: readStat(pid)?.comm ?? '?', seconds: spent / TICKS_PER_SECOND });
      }
      return { server: server / TICKS_PER_SECOND, machine: machine / TICKS_PER_SECOND, processes };
    },
  };
}

/**
 * Waits until the processes have spent less than busyTicks of CPU over the
 * last windowMs, or maxMs have passed; resolves with the ms waited. After
 * wrk stops, a server may still be working through the requests it had
 * queued (64 POSTs of 10 MiB keep a uWSGI worker busy for a second or
 * more), and that must not be charged to the next server in the rotation.
 */
export async function waitIdle(pidsFn, { windowMs = 200, maxMs = 5000, busyTicks = 2 } = {}) {
  const start = Date.now();
  const total = () => {
    let ticks = 0;
    for (const pid of pidsFn()) ticks += readStat(pid)?.cpuTicks ?? 0;
    return ticks;
  };
  let before = total();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = total();
    if (now - before < busyTicks || Date.now() - start >= maxMs) return Date.now() - start;
    before = now;
  }
}
