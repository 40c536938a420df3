"""Token-bucket rate limiting per caller. Pure: the clock is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate_per_s: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> float:
        """0.0 when a request may pass, else the seconds until one may."""
        if self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_s


class RateLimiter:
    """One bucket per caller key; idle buckets are forgotten to bound memory."""

    def __init__(self, rate_per_s: float, burst: int, *, max_callers: int = 100_000) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._max = max_callers
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, caller: str, now: float) -> float:
        bucket = self._buckets.get(caller)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._forget_full(now)
            bucket = self._buckets[caller] = TokenBucket(self._rate, self._burst)
        return bucket.take(now)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely carries no state worth keeping.
        refill = self._burst / self._rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]
        if len(self._buckets) >= self._max:
            self._buckets.clear()
