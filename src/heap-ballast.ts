/**
 * A front process keeps a fixed block of its heap that nothing reads: a
 * heap ballast, as Go services used before Go had a memory limit, and for
 * the same reason.
 *
 * V8 sets the trigger of its next full collection from the size of the old
 * generation at the last one. A front's own heap is small, and at that size,
 * under a load that moves large bodies (every response a few external
 * buffers that live until their write ends), V8 falls into back-to-back
 * incremental mark-compacts that never let up: the front then spends most
 * of its time collecting, and the 100 KiB cell loses most of its speed.
 * Whether a given front falls in depends only on how big its heap happens
 * to be: loading one more npm package was enough. A heap past the ballast's
 * size stays clear of it. The measurements, with and without, are in
 * docs/benchmarks/analysis.md ("The front's heap and V8's full collections").
 *
 * An array of doubles holds no pointers, so the marker never scans
 * it, and it never moves (it lives in the large-object space): what it
 * costs is its resident memory, once. Only the `portico` command's fronts
 * hold one; a program that embeds createServer() keeps its own heap as it is.
 */

/** The ballast's size. Large enough to lift a front's heap out of the range where V8's limits thrash. */
export const HEAP_BALLAST_BYTES = 16 * 1024 * 1024;

let ballast: number[] | null = null;

/** Allocates the ballast, once per process. */
export function holdHeapBallast(): void {
  ballast ??= new Array<number>(HEAP_BALLAST_BYTES / Float64Array.BYTES_PER_ELEMENT).fill(0.5);
}

/** Whether this process holds the ballast, and how many bytes of it. */
export function heapBallastBytes(): number {
  return ballast === null ? 0 : ballast.length * Float64Array.BYTES_PER_ELEMENT;
}
