/**
 * A request the front refuses before any application sees it: the status
 * to answer, a stable code that tests and logs match on, and a reason for
 * the error log (never sent to the client).
 */
export interface Refusal {
  refuse: number;
  code: string;
  reason: string;
}

export function refusal(status: number, code: string, reason: string): Refusal {
  return { refuse: status, code, reason };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'refuse' in value;
}
