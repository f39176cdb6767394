// L7: the clock the I/O layer hands to the sans-IO core (DESIGN §2: the core never reads one).
// `now` is a monotonic millisecond count anchored at the wall clock (performance.timeOrigin +
// performance.now()), so it never steps backwards yet stays usable as "ms since the epoch" where
// the core needs absolute time (certificate validity, session ticket ages, token expiry).

export type Clock = () => number;

const origin = performance.timeOrigin;

/** Monotonic ms since the Unix epoch (fractional). */
export const monotonicNow: Clock = () => origin + performance.now();
