/**
 * What an interrupted run (Ctrl-C, SIGTERM) must undo: the server processes it started, its generator workers,
 * the scratch PostgreSQL schemas and Redis keys. Every resource registers its own cleanup here when it is created
 * and unregisters it when it is released normally; on the first SIGINT/SIGTERM all registered cleanups run
 * together (each bounded by its own stop logic, all of them by GRACE_MS), then the process exits 130/143.
 * A second signal exits at once.
 */
type Cleanup = () => Promise<void> | void;

const GRACE_MS = 15_000;
const cleanups = new Set<Cleanup>();
let installed = false;
let interrupted = false;

/** Registers `fn` to run if the run is interrupted; returns the function that unregisters it. */
export function onInterrupt(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      const code = signal === "SIGINT" ? 130 : 143;
      if (interrupted) process.exit(code);
      interrupted = true;
      process.stderr.write(
        `\n${signal}: stopping ${cleanups.size} server/worker group(s) and removing scratch data…\n`,
      );
      const all = Promise.allSettled([...cleanups].map(async (fn) => fn()));
      void Promise.race([all, Bun.sleep(GRACE_MS)]).then(() => process.exit(code));
    });
  }
}
