/**
 * How a child process ended, said the same way for every process portico
 * supervises: Python workers, the --preload zygote and the CGI spawner.
 */
import { constants as osConstants } from 'node:os';

/** The name of signal `number` on this platform, or null if it has none. */
export function signalName(number: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(osConstants.signals)) {
    if (value === number) return name as NodeJS.Signals;
  }
  return null;
}

/**
 * Why a process ended, in words an operator can act on. `killReason` is
 * given when portico sent the signal itself; a SIGKILL nobody here sent is
 * most often the kernel's out-of-memory killer.
 */
export function describeExit(code: number | null, signal: NodeJS.Signals | null, killReason: string | null = null): string {
  if (signal !== null) {
    const number = osConstants.signals[signal];
    const hint = killReason !== null ? ` ${killReason}` : signal === 'SIGKILL' ? ' (perhaps out of memory)' : '';
    return `was killed by ${signal} (signal ${number})${hint}`;
  }
  return `exited with code ${code ?? 'unknown'}`;
}
