/**
 * A request the front refuses before any application sees it: the status
 * to answer, a stable code that tests and logs match on, and a reason for
 * the error log (never sent to the client).
 */
import type { ErrorCode } from '../error-codes.js';

export interface Refusal {
  /** The status answered; 0 for a connection closed unanswered. */
  refuse: number;
  /** From the table in error-codes.ts. */
  code: ErrorCode;
  reason: string;
}

export function refusal(status: number, code: ErrorCode, reason: string): Refusal {
  return { refuse: status, code, reason };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'refuse' in value;
}

/**
 * Connections answered with an error that closes them: Node may already
 * have parsed requests pipelined behind the refused one (or behind a body
 * left unread), and after such an error nothing on the connection can be
 * trusted to be framed as its client meant (RFC 9112 §9.6, §11.2). They are
 * dropped unanswered; the client retries on a new connection.
 */
const closing = new WeakSet<object>();

export function markClosing(socket: object): void {
  closing.add(socket);
}

export function isClosing(socket: object): boolean {
  return closing.has(socket);
}
