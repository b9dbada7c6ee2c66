/** What a notice carries; receivers act on its arrival on the control wire, not on its content. */
const RESYNC_NOTICE = "resync";

/**
 * The resync notices a process owes after failed publishes, which is how the port's promise "a failed publish
 * is announced to every subscriber through onResync" is kept. Every failure owes a notice; a notice the server
 * accepts pays every failure owed when it was sent, and failures during the send are paid by a further one. At
 * most one notice is in flight, so a burst of failures costs one or two notices, not one each.
 *
 * A notice is sent only when `send` has a way to the server; when it has none (closed, no ready publisher) the
 * debt waits, and the adapter calls pay() again when a way comes back.
 */
export class ResyncNoticeDebt {
  #owed = 0;
  #paid = 0;
  #inFlight = false;

  /**
   * `send` publishes the notice on the control wire, or returns undefined when it cannot now. `sendFailed` hears
   * of a notice the server refused; the debt stays owed either way.
   */
  constructor(
    private readonly send: (notice: string) => Promise<unknown> | undefined,
    private readonly sendFailed: (error: unknown) => void = () => {},
  ) {}

  owe(): void {
    this.#owed++;
    this.pay();
  }

  pay(): void {
    if (this.#inFlight || this.#paid === this.#owed) return;
    const sending = this.send(RESYNC_NOTICE);
    if (sending === undefined) return;
    this.#inFlight = true;
    const generation = this.#owed;
    sending.then(
      () => {
        this.#inFlight = false;
        this.#paid = Math.max(this.#paid, generation);
        this.pay();
      },
      (error: unknown) => {
        this.#inFlight = false;
        this.sendFailed(error);
      },
    );
  }
}
