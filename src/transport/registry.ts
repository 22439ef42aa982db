/**
 * Every process a transport starts is registered here until it is reaped, so that Ctrl-C, SIGTERM or a
 * normal exit of the harness never leaves a tcpdump/tcpreplay behind (in a namespace, container or host).
 * Handlers are installed once, on first use.
 */
export interface TrackedProcess {
  readonly description: string;
  /** Synchronous best effort, used from process 'exit' where nothing async can run. */
  killNow(): void;
  /** Asynchronous stop (remote kill through a second exec), used on SIGINT/SIGTERM. */
  kill(): Promise<void>;
}

const live = new Set<TrackedProcess>();
let installed = false;
let holds = 0;

/**
 * While held, SIGINT/SIGTERM leave the processes to the application, which stops them itself (e.g. `run`
 * stops injecting, then stops its captures and still analyses them). Call the returned function to release.
 */
export function holdSignalCleanup(): () => void {
  holds++;
  let released = false;
  return () => {
    if (!released) holds--;
    released = true;
  };
}

export function trackProcess(p: TrackedProcess): () => void {
  install();
  live.add(p);
  return () => live.delete(p);
}

/** Processes started and not yet reaped (for tests and diagnostics). */
export function liveProcesses(): string[] {
  return [...live].map((p) => p.description);
}

/** Kill everything still running; bounded so a dead SSH link cannot hang shutdown. */
export async function killAllProcesses(timeoutMs = 3000): Promise<void> {
  const all = [...live];
  await Promise.race([
    Promise.allSettled(all.map((p) => p.kill())),
    new Promise((r) => setTimeout(r, timeoutMs).unref()),
  ]);
  for (const p of all) {
    try {
      p.killNow();
    } catch {
      /* already gone */
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', () => {
    for (const p of live) {
      try {
        p.killNow();
      } catch {
        /* already gone */
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      if (holds > 0) return;
      void killAllProcesses().finally(() => {
        // Re-raise with default behaviour unless the application handles the signal itself.
        if (process.listenerCount(sig) === 1) {
          process.removeListener(sig, handler);
          process.kill(process.pid, sig);
        }
      });
    };
    process.on(sig, handler);
  }
}
