/**
 * The operating-system side of a worker: its pid, its frame channel, how to
 * signal it and how it ends. A worker is either spawned as its own Python
 * process or forked by a --preload zygote; WorkerProcess speaks the
 * protocol the same way over either.
 */
import type { Socket } from 'node:net';
import { signalName } from './exit-description.js';

export interface WorkerHandle {
  /** The process id; for a spawned worker known at once, for a forked one from its READY. */
  readonly pid: number;
  readonly channel: Socket;
  kill(signal: NodeJS.Signals): void;
  /** `listener` is called once, when the process has ended; `failure` explains a process that never started. */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null, failure: string | null) => void): void;
}

/** Exit code and signal from a raw waitpid(2) status. */
export function decodeWaitStatus(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  const signalNumber = status & 0x7f;
  if (signalNumber === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalName(signalNumber) ?? (`SIG${signalNumber}` as NodeJS.Signals) };
}
