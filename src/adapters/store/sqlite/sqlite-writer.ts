import type { RepositoryName } from "./repositories.ts";
import { type FromWriter, rebuildError, type ToWriter, type WriteCall } from "./writer-protocol.ts";

/** Bun's Worker, which can stop keeping the process alive (the DOM's type, which this project compiles with, lacks it). */
type BunWorker = Worker & { ref(): void; unref(): void };

/**
 * The thread's entry point. From source, the file next to this one. In the compiled executable (`npm run build`
 * lists it as a second entry point) import.meta.url is the executable's own, and entry points sit in its
 * embedded file system at their paths below src/.
 */
const WRITER_THREAD_ENTRY = import.meta.url.startsWith("file:///$bunfs/")
  ? "/$bunfs/root/adapters/store/sqlite/writer-thread.ts"
  : new URL("./writer-thread.ts", import.meta.url).href;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The serving thread's end of the SQLite writer thread (writer-thread.ts). Guarantees:
 * - a call settles only with the thread's answer, which the thread posts after the call's transaction has
 *   committed (durably) or failed — so "resolved" still means "committed";
 * - calls reach the thread in the order they were made, in batches with one on the thread at a time: a call
 *   made while none is there goes at the next event-loop turn (so the sends woken by one batch of socket reads
 *   share one grouped commit), one made while a batch is there goes as soon as that batch is answered. Under
 *   load a batch carries more calls and the two threads wake less often; a call waits at most one batch's
 *   commit more, which it would wait on the thread anyway;
 * - if the thread cannot open its connection or stops, every pending and later call rejects: nothing is reported
 *   written that was not;
 * - `close()` resolves once every call made before it has been answered and the thread's connection is closed;
 *   later calls reject.
 * The thread keeps the process alive only while calls are pending or it is closing.
 */
export class SqliteWriter {
  readonly #worker: BunWorker;
  readonly #pending = new Map<number, Pending>();
  #outbox: WriteCall[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #failure: Error | null = null;
  #closing: Promise<void> | null = null;
  #settleClose: ((error: Error | null) => void) | null = null;

  constructor(path: string, busyTimeoutMs: number) {
    this.#worker = new Worker(WRITER_THREAD_ENTRY, {
      name: "sqlite-writer",
    }) as BunWorker;
    this.#worker.unref();
    this.#worker.onmessage = (event: MessageEvent<FromWriter>) => this.#receive(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`the SQLite writer thread failed: ${event.message}`));
    };
    this.#worker.addEventListener("close", () => this.#fail(new Error("the SQLite writer thread stopped")));
    this.#post({ type: "open", path, busyTimeoutMs });
  }

  /** Runs `target.method(...args)` on the writer thread's connection; `args` must be plain (cloneable) data. */
  call(target: RepositoryName | "store", method: string, args: readonly unknown[]): Promise<unknown> {
    if (this.#closing !== null) return Promise.reject(new Error("database is closed"));
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push({ id, target, method, args });
      // While a batch is on the thread, calls wait for its answers (see #receive).
      if (this.#pending.size === this.#outbox.length) this.#scheduleFlush();
    });
  }

  /** Answers what was called before, closes the thread's connection and ends the thread. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = new Promise<void>((resolve, reject) => {
      this.#settleClose = (error) => {
        this.#settleClose = null;
        this.#worker.terminate();
        if (error === null) resolve();
        else reject(error);
      };
    });
    this.#worker.ref();
    if (this.#failure !== null) {
      this.#settleClose?.(null);
    } else {
      this.#flush();
      this.#post({ type: "close" });
    }
    return this.#closing;
  }

  #post(message: ToWriter): void {
    this.#worker.postMessage(message);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#outbox.length === 0) return;
    const calls = this.#outbox;
    this.#outbox = [];
    try {
      this.#post({ type: "calls", calls });
    } catch {
      // Some argument could not be cloned: send the calls one by one so that only those fail.
      for (const call of calls) {
        try {
          this.#post({ type: "calls", calls: [call] });
        } catch (error) {
          this.#settle(call.id, (p) => p.reject(error));
        }
      }
    }
  }

  #receive(message: FromWriter): void {
    switch (message.type) {
      case "results":
        for (const r of message.results) {
          if (r.ok) this.#settle(r.id, (p) => p.resolve(r.value));
          else this.#settle(r.id, (p) => p.reject(rebuildError(r.error)));
        }
        // The batch on the thread is answered: what was called meanwhile goes as the next one.
        if (this.#outbox.length > 0 && this.#pending.size === this.#outbox.length) this.#scheduleFlush();
        return;
      case "failed":
        this.#fail(rebuildError(message.error));
        return;
      case "closed":
        this.#settleClose?.(message.error === undefined ? null : rebuildError(message.error));
        return;
    }
  }

  #settle(id: number, how: (p: Pending) => void): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0 && this.#closing === null) this.#worker.unref();
    how(pending);
  }

  /** The thread is gone or unusable: fail what waits on it, and every call from now on. */
  #fail(error: Error): void {
    this.#failure ??= error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#outbox = [];
    for (const p of pending) p.reject(this.#failure);
    if (this.#closing === null) this.#worker.unref();
    this.#settleClose?.(null);
  }
}
