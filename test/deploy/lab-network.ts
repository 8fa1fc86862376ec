/**
 * A private network of network namespaces, for the deployment test: three
 * hosts, a load balancer and a client, each a namespace with one veth link
 * to a bridge that lives in a namespace of its own.
 *
 *     <run>-client  10.213.0.10 ──┐
 *     <run>-lb      10.213.0.2  ──┤
 *     <run>-h1      10.213.0.11 ──┼── bridge br0 in <run>-switch
 *     <run>-h2      10.213.0.12 ──┤
 *     <run>-h3      10.213.0.13 ──┘
 *
 * Every link is made inside these namespaces (`ip -n`), never in the root
 * one, and no namespace has a route out of 10.213.0.0/24: nothing a test
 * sends can leave them, and the same subnet in two runs never meets.
 * Destroying the lab kills every process left in its namespaces (by pid,
 * from `ip netns pids`) and deletes the namespaces, which takes their links
 * with them.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

export const SUBNET_PREFIX = '10.213.0';
const NAME_PREFIX = 'portico-deploy-';
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface LabNode {
  /** h1, h2, h3, lb or client: also the host name the node's processes see. */
  role: string;
  /** The namespace's name. */
  ns: string;
  address: string;
}

export class LabNetworkError extends Error {
  readonly code = 'LAB_NETWORK';
}

function ip(args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new LabNetworkError(`ip ${args.join(' ')}: ${(result.stderr || String(result.error)).trim()}`);
  return result.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why this machine cannot make namespaces (not root, no `ip`), or null when it can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'making network namespaces needs root';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.status !== 0) return `ip netns does not work here: ${(probe.stderr || String(probe.error)).trim()}`;
  return null;
}

export class LabNetwork {
  readonly run: string;
  readonly switchNs: string;
  readonly nodes: Map<string, LabNode>;
  #destroyed = false;
  readonly #onExit = (): void => this.destroy();
  /** A test run interrupted (Ctrl-C, the runner's SIGTERM) cleans up, then dies of the signal as it would have. */
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.destroy();
    process.kill(process.pid, signal);
  };

  /** `roles` maps each node's role to the last byte of its address. */
  constructor(roles: Record<string, number>) {
    this.run = `${NAME_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    this.switchNs = `${this.run}-switch`;
    this.nodes = new Map(
      Object.entries(roles).map(([role, last]) => [role, { role, ns: `${this.run}-${role}`, address: `${SUBNET_PREFIX}.${last}` }]),
    );
  }

  node(role: string): LabNode {
    const node = this.nodes.get(role);
    if (node === undefined) throw new LabNetworkError(`no node ${role} in ${this.run}`);
    return node;
  }

  /** Makes the namespaces, the bridge and the links; on any failure, undoes what it made. */
  create(): void {
    LabNetwork.sweepAbandoned();
    process.once('exit', this.#onExit);
    for (const signal of SIGNALS) process.once(signal, this.#onSignal);
    try {
      ip(['netns', 'add', this.switchNs]);
      ip(['-n', this.switchNs, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
      ip(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
      for (const node of this.nodes.values()) {
        ip(['netns', 'add', node.ns]);
        ip(['-n', node.ns, 'link', 'set', 'lo', 'up']);
        // The veth is born in the node's namespace with its peer in the switch's.
        ip(['-n', node.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', node.role, 'netns', this.switchNs]);
        ip(['-n', node.ns, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0']);
        ip(['-n', node.ns, 'link', 'set', 'eth0', 'up']);
        ip(['-n', this.switchNs, 'link', 'set', node.role, 'master', 'br0', 'up']);
      }
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  /** Spawns `command` in a node's namespace, in a process group of its own. */
  spawnIn(role: string, command: string[], options: SpawnOptions = {}): ChildProcess {
    const [file, ...args] = command;
    return spawn('ip', ['netns', 'exec', this.node(role).ns, file as string, ...args], { detached: true, ...options });
  }

  /** Runs `command` in a node's namespace to completion. */
  execIn(role: string, command: string[], timeoutMs = 10_000): { status: number | null; stdout: string; stderr: string } {
    const [file, ...args] = command;
    const result = spawnSync('ip', ['netns', 'exec', this.node(role).ns, file as string, ...args], { encoding: 'utf8', timeout: timeoutMs });
    return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
  }

  /** Every process still in one of the lab's namespaces. */
  pids(): number[] {
    return [this.switchNs, ...[...this.nodes.values()].map((n) => n.ns)].flatMap((ns) => LabNetwork.pidsIn(ns));
  }

  /**
   * Kills whatever still runs in the namespaces and deletes them. Safe to
   * call twice, and synchronous, so that it also runs from an exit handler.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    process.off('exit', this.#onExit);
    for (const signal of SIGNALS) process.off(signal, this.#onSignal);
    LabNetwork.remove([...[...this.nodes.values()].map((n) => n.ns), this.switchNs]);
  }

  static pidsIn(ns: string): number[] {
    const result = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    return (result.stdout ?? '').split(/\s+/).filter((w) => w !== '').map(Number);
  }

  static remove(namespaces: string[]): void {
    for (const ns of namespaces) {
      for (const pid of LabNetwork.pidsIn(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    for (const ns of namespaces) spawnSync('ip', ['netns', 'delete', ns], { encoding: 'utf8' });
  }

  /**
   * Namespaces an earlier run of this test left behind because its process
   * was killed before it could clean up: they carry the pid of a process
   * that no longer exists.
   */
  static sweepAbandoned(): void {
    const names = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    const abandoned = names
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => {
        const match = new RegExp(`^${NAME_PREFIX}(\\d+)-`).exec(name);
        return match !== null && !alive(Number(match[1]));
      });
    LabNetwork.remove(abandoned);
  }
}
