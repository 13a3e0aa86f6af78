"""When to poll a source next: the politeness policy, as pure functions over time.

Rules (Miniflux's behaviour is the reference):

- After a success (200 or 304) the next poll is one interval away: the source's own interval,
  or longer when the feed asks for it (RSS `<ttl>` minutes, `Cache-Control: max-age`), always
  clamped to the configured [minimum, maximum]. A hint never makes us poll *more* often than the
  interval we chose; it only slows us down.
- After a failure the delay doubles with every consecutive failure (interval × 2^(n-1)), with
  "equal jitter" (a random point in the upper half of the delay) so that thousands of sources that
  failed together (one CDN outage) do not come back in one burst, up to a ceiling. The first
  success resets the count (`consecutive_failures = 0`).
- 429 and 503 honour `Retry-After` (delta-seconds or an HTTP date): the next poll is no earlier
  than the server asked, still capped by the ceiling so a hostile header cannot silence a source
  for a year.
- 410 Gone disables the source; `is_due` never returns True for a disabled source.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from newsroom.core.models import SourceState, utc

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d{1,10})\"?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PollBounds:
    default_interval: timedelta = timedelta(minutes=15)
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)  # a feed's hint cannot push us beyond this
    backoff_ceiling: timedelta = timedelta(hours=24)  # longest wait after failures

    def __post_init__(self) -> None:
        if not timedelta(0) < self.min_interval <= self.default_interval <= self.max_interval:
            raise ValueError("need 0 < min_interval <= default_interval <= max_interval")
        if self.backoff_ceiling < self.min_interval:
            raise ValueError("backoff_ceiling must be at least min_interval")

    def clamp(self, delay: timedelta) -> timedelta:
        return max(self.min_interval, min(delay, self.max_interval))


def interval_for(minutes: int | None, bounds: PollBounds) -> timedelta:
    """The source's configured interval (or the default), within bounds."""
    if minutes is None or minutes <= 0:
        return bounds.default_interval
    return bounds.clamp(timedelta(minutes=minutes))


# Longer than any backoff ceiling (about three years): what a far-future Retry-After is worth.
MAX_RETRY_AFTER = timedelta(seconds=10**8)
_DELTA_SECONDS = re.compile(r"[0-9]+")


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as a delay from `now`: delta-seconds or an HTTP date, at most
    `MAX_RETRY_AFTER`; None when unusable. Never raises: the value is the server's, and a
    hostile one (thousands of digits, a date past `datetime.max` once moved to UTC) must not cost
    the failure's status and delay."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        digits = text.lstrip("0") or "0"
        # Counting digits first keeps int() below Python's integer-string limit.
        if len(digits) > 9:
            return MAX_RETRY_AFTER
        return min(timedelta(seconds=int(digits)), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:  # pragma: no cover - older Pythons returned None instead of raising
        return None
    try:
        delay = utc(moment) - utc(now)
    except OverflowError:  # the date is beyond what a datetime holds in UTC, one way or the other
        return MAX_RETRY_AFTER if moment.year > utc(now).year else timedelta(0)
    return min(max(timedelta(0), delay), MAX_RETRY_AFTER)


def max_age(headers: Mapping[str, str]) -> timedelta | None:
    """`Cache-Control: max-age` (or `s-maxage`) from lower-cased response headers."""
    cache_control = headers.get("cache-control", "")
    found = [int(m) for m in _MAX_AGE.findall(cache_control)]
    return timedelta(seconds=max(found)) if found else None


def feed_hint(headers: Mapping[str, str], ttl_minutes: int | None) -> timedelta | None:
    """The longest of the hints a feed gives about how often to poll it."""
    hints = [h for h in (max_age(headers), timedelta(minutes=ttl_minutes) if ttl_minutes else None) if h]
    return max(hints) if hints else None


def expires_zero(headers: Mapping[str, str]) -> bool:
    """True when the server says `Expires: 0` ("already expired", also spelled -1): such servers
    (often misconfigured CDNs) change ETag/Last-Modified on every answer or never honour them, so
    their validators are not kept for the next poll. A real date is left alone."""
    return headers.get("expires", "").strip() in ("0", "-1")


def after_success(now: datetime, interval: timedelta, bounds: PollBounds, *, hint: timedelta | None = None) -> datetime:
    delay = interval if hint is None else max(interval, hint)
    return utc(now) + bounds.clamp(delay)


def backoff_delay(
    failures: int,
    interval: timedelta,
    bounds: PollBounds,
    *,
    rng: random.Random | None = None,
) -> timedelta:
    """Exponential backoff with equal jitter: in [d/2, d] for d = min(ceiling, interval·2^(n-1))."""
    exponent = min(max(failures, 1) - 1, 30)
    full = min(bounds.backoff_ceiling, interval * (2**exponent))
    fraction = (rng or random).uniform(0.5, 1.0)
    return max(bounds.min_interval, full * fraction)


def after_failure(
    now: datetime,
    failures: int,
    interval: timedelta,
    bounds: PollBounds,
    *,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> datetime:
    delay = backoff_delay(failures, interval, bounds, rng=rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, bounds.backoff_ceiling))
    return utc(now) + delay


# The dispatcher runs on a fixed tick. A source whose next poll falls just after a tick would
# otherwise wait a whole extra tick every time (a 15-minute interval polled every 20 minutes on a
# 5-minute tick), so anything due within this slack counts as due now.
DUE_SLACK = timedelta(minutes=2)


def is_due(state: SourceState | None, now: datetime, *, slack: timedelta = DUE_SLACK) -> bool:
    """Whether a source should be polled at `now` (never, once disabled)."""
    if state is None:
        return True
    if state.disabled:
        return False
    return state.next_poll is None or utc(state.next_poll) <= utc(now) + slack
