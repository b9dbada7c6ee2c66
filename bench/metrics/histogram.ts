/**
 * A log-linear latency histogram in microseconds: exact below 64 µs, then 32 sub-buckets per power of two
 * (≤ 3.2 % relative error), up to ~35 minutes. Fixed size, allocation-free on record, and mergeable across
 * processes by adding counts, so workers can ship deltas and the coordinator can compute exact-bucket percentiles.
 */
const LINEAR = 64;
const SUB = 32;
const MAX_EXP = 31;
export const HISTOGRAM_BUCKETS = LINEAR + (MAX_EXP - 6) * SUB;

export function bucketOf(micros: number): number {
  const v = micros < 0 ? 0 : micros > 0x7fffffff ? 0x7fffffff : micros | 0;
  if (v < LINEAR) return v;
  const e = 31 - Math.clz32(v);
  return LINEAR + (e - 6) * SUB + ((v >>> (e - 5)) & (SUB - 1));
}

/** The upper bound of a bucket, so percentiles never understate. */
export function bucketUpperBound(index: number): number {
  if (index < LINEAR) return index;
  const e = Math.floor((index - LINEAR) / SUB) + 6;
  const mant = (index - LINEAR) % SUB;
  return (SUB + mant + 1) * 2 ** (e - 5) - 1;
}

export class Histogram {
  readonly counts: Float64Array;
  count = 0;
  max = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Float64Array(HISTOGRAM_BUCKETS);
    if (counts) this.addCounts(counts);
  }

  record(micros: number): void {
    this.counts[bucketOf(micros)]! += 1;
    this.count++;
    if (micros > this.max) this.max = micros;
  }

  addCounts(counts: ArrayLike<number>, max = 0): void {
    for (let i = 0; i < counts.length && i < HISTOGRAM_BUCKETS; i++) {
      const c = counts[i]!;
      if (c !== 0) {
        this.counts[i]! += c;
        this.count += c;
      }
    }
    if (max > this.max) this.max = max;
  }

  merge(other: Histogram): void {
    this.addCounts(other.counts, other.max);
  }

  /** Value (µs) at quantile q in [0, 1]; 0 when empty. The max is exact, not a bucket bound. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperBound(i), this.max);
    }
    return this.max;
  }

  /** Sparse form for IPC: [index, count] pairs. */
  toSparse(): { pairs: number[]; max: number } {
    const pairs: number[] = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c !== 0) pairs.push(i, c);
    }
    return { pairs, max: this.max };
  }

  addSparse(sparse: { pairs: readonly number[]; max: number }): void {
    const p = sparse.pairs;
    for (let k = 0; k + 1 < p.length; k += 2) {
      this.counts[p[k]!]! += p[k + 1]!;
      this.count += p[k + 1]!;
    }
    if (sparse.max > this.max) this.max = sparse.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }
}
