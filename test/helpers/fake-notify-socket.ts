/**
 * A stand-in for systemd's NOTIFY_SOCKET: a Python datagram receiver that
 * also reads each sender's credentials, for tests of sd_notify (#17, #18).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { eventually } from './http-client.js';

/** Binds NOTIFY_SOCKET and prints each datagram as a JSON line, with the pid SCM_CREDENTIALS gives for its sender. */
const RECEIVER = `
import json, socket, struct, sys
name = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("\\0" + name[1:] if name.startswith("@") else name)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"bound": True}), flush=True)
while True:
    data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(json.dumps({"pid": pid, "message": data.decode()}), flush=True)
`;

export interface Notification {
  pid: number | null;
  message: string;
}

export class FakeNotifySocket {
  readonly messages: Notification[] = [];
  readonly #child: ChildProcess;
  readonly bound: Promise<void>;

  constructor(name: string) {
    this.#child = spawn('python3', ['-c', RECEIVER, name], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bound: () => void = () => {};
    this.bound = new Promise((resolve) => (bound = resolve));
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Notification & { bound?: true };
      if (parsed.bound) bound();
      else this.messages.push(parsed);
    });
  }

  /** Messages other than the watchdog's, in order. */
  get lifecycle(): string[] {
    return this.messages.map((m) => m.message).filter((m) => m !== 'WATCHDOG=1');
  }

  waitFor(predicate: (lifecycle: string[]) => boolean, what: string): Promise<void> {
    return eventually(what, () => (predicate(this.lifecycle) ? true : undefined), 15_000, 20).then(
      () => undefined,
      (error: Error) => {
        throw new Error(`${error.message}; got ${JSON.stringify(this.messages)}`);
      },
    );
  }

  close(): void {
    this.#child.kill('SIGKILL');
  }
}
