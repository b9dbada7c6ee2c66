/** fast-check runs per property: 10,000 in the suite; `STOMP_FC_RUNS=100000 bun test …` for a longer run. */
export const FC_RUNS = { numRuns: Number(process.env.STOMP_FC_RUNS ?? 10_000) };
