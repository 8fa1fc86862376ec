/**
 * What a front of --fronts N reports to its parent for the parent's
 * control listener: what its own /metrics and /status.json would answer.
 */
import type { StatusSnapshot } from './status-snapshot.js';

export interface ControlReport {
  /** Prometheus text. */
  metrics: string;
  status: StatusSnapshot;
}
