/**
 * The test's side of load-generator.js: runs it in the client's namespace,
 * reads its JSON lines as they come, and ends it by closing its stdin.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LabNetwork } from './lab-network.js';
import type { FirstResponse, LoadGeneratorOptions, Summary } from './load-generator.js';

const GENERATOR = fileURLToPath(new URL('./load-generator.js', import.meta.url));

export class LoadRunError extends Error {
  readonly code = 'LOAD_RUN';
}

export class LoadRun {
  #child: ChildProcess;
  #exited: Promise<unknown>;
  #firsts: FirstResponse[] = [];
  #summary: Summary | null = null;
  #stderr = '';
  #ready: Promise<void>;

  constructor(lab: LabNetwork, options: LoadGeneratorOptions) {
    this.#child = lab.spawnIn('client', [process.execPath, GENERATOR, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#exited = once(this.#child, 'exit');
    let buffered = '';
    let ready: () => void = () => {};
    this.#ready = new Promise((resolve) => (ready = resolve));
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as { event: string };
        buffered = buffered.slice(newline + 1);
        if (line.event === 'ready') ready();
        else if (line.event === 'first') this.#firsts.push(line as FirstResponse);
        else if (line.event === 'summary') this.#summary = line as Summary;
      }
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
  }

  /** Resolves once the generator has started sending. */
  started(): Promise<void> {
    return Promise.race([this.#ready, this.#exited.then(() => Promise.reject(new LoadRunError(`the load generator exited: ${this.#stderr}`)))]);
  }

  /** The first response a given portico front served, once it has come. */
  async firstFrom(host: string, front: number, timeoutMs: number): Promise<FirstResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const first = this.#firsts.find((f) => f.host === host && f.front === front);
      if (first !== undefined) return first;
      if (Date.now() > deadline) throw new LoadRunError(`no response from ${host}'s portico (front ${front}) within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ends the load (a run without `requests`) and returns its summary. */
  async finish(timeoutMs = 20_000): Promise<Summary> {
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
    if (this.#summary === null) throw new LoadRunError(`the load generator ended without a summary: ${this.#stderr}`);
    return this.#summary;
  }

  kill(): void {
    try {
      process.kill(this.#child.pid as number, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
