/**
 * Writes held back to the end of the event loop's poll phase and then made together, in the order
 * they came, instead of one by one as each answer is ready.
 *
 * Why: every answer written to a peer that is asleep in epoll_wait (nginx, Caddy, a load generator)
 * wakes it, and on a virtual machine that wake-up is the dearest part of the write: `perf` showed
 * the gate's socket writes at 30 µs a request against 12.5 µs for a bare node:http server, the
 * difference almost all in waking the reader (`sock_def_readable`, `_raw_spin_unlock_irqrestore`).
 * Answers written back to back reach a peer that is still awake from the first one. The checks of
 * one poll phase are answered a few microseconds apart instead of interleaved with the next
 * requests' parsing; the answers are the same (bench/README.md, 2026-12-07 evening).
 *
 * A write that throws does not stop the others; the error is rethrown, as it would have been.
 */
export type TurnWrites = (write: () => void) => void;

export function turnWrites(): TurnWrites {
  let queued: Array<() => void> = [];
  const flush = (): void => {
    const writes = queued;
    queued = [];
    let failure: { error: unknown } | undefined;
    for (const write of writes) {
      try {
        write();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  };
  return (write) => {
    queued.push(write);
    // setImmediate runs in the check phase, right after the poll phase that read these requests.
    if (queued.length === 1) setImmediate(flush);
  };
}
