/**
 * The HTTP/1.1 response class of a Listener: once its server has begun to
 * drain, a response whose head has not gone out yet says Connection: close
 * (RFC 9112 §9.6), so that its client takes the next request elsewhere.
 *
 * Decided as the head is written, rather than by walking a list of the
 * requests in flight when the drain begins: a long-lived collection that
 * held every request kept each one alive through V8's young-generation
 * collections, and that cost the front a quarter of its time on small
 * responses (docs/benchmarks/analysis.md, "The front's heap and V8's full
 * collections").
 */
import { ServerResponse } from 'node:http';

/** A response class for one listener; `draining` says whether its server drains. */
export function drainingAwareResponse(draining: () => boolean): typeof ServerResponse {
  class DrainingAwareResponse extends ServerResponse {
    // Node writes every head through writeHead, the implicit ones too (ServerResponse._implicitHeader).
    override writeHead(...args: unknown[]): this {
      if (draining()) this.shouldKeepAlive = false;
      return (ServerResponse.prototype.writeHead as (...head: unknown[]) => this).apply(this, args);
    }
  }
  // Node's declaration makes the class generic in its request; this one answers any IncomingMessage.
  return DrainingAwareResponse as typeof ServerResponse;
}
