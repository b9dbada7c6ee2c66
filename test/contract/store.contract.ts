/**
 * The Store contract: every adapter of src/ports/store.ts runs this suite and must pass it unchanged. It asserts
 * only what the port promises, so it is dialect-agnostic. Its parts live in ./store/, one per concern, and run
 * in the order they are called here, each test on a fresh store.
 */
import { describe } from "bun:test";
import { commitTimingContract } from "./store/commit-timing.contract.ts";
import { eventsContract } from "./store/events.contract.ts";
import { type OpenStore, storeFixture } from "./store/fixtures.ts";
import { lifecycleContract } from "./store/lifecycle.contract.ts";
import { messagesContract } from "./store/messages.contract.ts";
import { roomsContract } from "./store/rooms.contract.ts";
import { searchContract } from "./store/search.contract.ts";
import { sessionsContract } from "./store/sessions.contract.ts";
import { usersContract } from "./store/users.contract.ts";

export type { OpenStore } from "./store/fixtures.ts";

export function storeContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    const fx = storeFixture(open);
    lifecycleContract(fx);
    usersContract(fx);
    sessionsContract(fx);
    roomsContract(fx);
    messagesContract(fx);
    eventsContract(fx);
    searchContract(fx);
    commitTimingContract(fx);
  });
}
