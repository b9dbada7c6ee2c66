import type { Placement } from "../../bench/runner/cpus.ts";

/** Bench scenarios in tests run unpinned, server and generator sharing the machine's cores, one generator core. */
export const UNPINNED: Placement = {
  pinned: false,
  serverCpus: null,
  generatorCpus: null,
  generatorCores: 1,
};
