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
- A source that does not pin its interval follows its own rhythm (`rhythm_interval`, below):
  the feed's entries per week set the interval, never shorter than the default, never longer
  than `rhythm_max_interval`; the hints above still only slow it down.
- 410 Gone disables the source; `is_due` never returns True for a disabled source, and a source
  disabled for the URL it still has is `gone` (editing the URL gives the new one a chance).
- A healthy source's state is not written by an unchanged poll, so its stored `next_poll` goes
  stale; `poll_interval_s` makes it a grid (`with_grid`): the source is due at
  next_poll + k * interval. The dispatcher (`select_due`), the fetcher (`state_to_poll`) and
  `/sources` (`next_poll_at`, `source_status`) all read these rules from here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from newsroom.core.config import DEFAULT_WEBSUB_LIMITS, WebSubLimits
from newsroom.core.models import Source, SourceState, utc
from newsroom.store.subscriptions import Subscription

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d{1,10})\"?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PollBounds:
    default_interval: timedelta = timedelta(minutes=15)
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)  # a feed's hint cannot push us beyond this
    backoff_ceiling: timedelta = timedelta(hours=24)  # longest wait after failures
    # The feed's rhythm (`rhythm_interval`): the interval is the mean gap between its entries
    # divided by `rhythm_factor`, within [default_interval, rhythm_max_interval].
    rhythm_factor: float = 4.0
    rhythm_max_interval: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.min_interval <= self.default_interval <= self.max_interval:
            raise ValueError("need 0 < min_interval <= default_interval <= max_interval")
        if not self.default_interval <= self.rhythm_max_interval <= self.max_interval:
            raise ValueError("need default_interval <= rhythm_max_interval <= max_interval")
        if not self.rhythm_factor > 0:
            raise ValueError("rhythm_factor must be positive")
        if self.backoff_ceiling < self.min_interval:
            raise ValueError("backoff_ceiling must be at least min_interval")

    def clamp(self, delay: timedelta) -> timedelta:
        return max(self.min_interval, min(delay, self.max_interval))


def interval_for(minutes: int | None, bounds: PollBounds) -> timedelta:
    """The source's configured interval (or the default), within bounds."""
    if minutes is None or minutes <= 0:
        return bounds.default_interval
    return bounds.clamp(timedelta(minutes=minutes))


# -- the feed's rhythm (issue 18) -----------------------------------------------------------------
# Miniflux's entry-frequency scheduler is the reference (POLLING_SCHEDULER=entry_frequency,
# https://miniflux.app/docs/configuration.html#scheduler-entry-frequency-factor): the next check
# is 7 days / (entries in the last week × factor), within [min, max], and the longest wait when
# nothing was published last week. Two departures, both for freshness: the floor is our default
# interval, so no feed is polled more often than before and a busy wire (one entry an hour or
# more, at factor 4) keeps exactly today's 15 minutes; and the rate is read from the feed's own
# document (we keep no entry history per source), extrapolated when the document holds less than
# a week, so a busy wire whose 20 items span five hours still counts as busy.

RHYTHM_WINDOW = timedelta(days=7)
# A document whose entries all appeared within a few minutes says little about a rate: at least
# this much time is assumed observed, so a burst of 20 entries is not read as 40,000 a week.
RHYTHM_MIN_OBSERVED = timedelta(hours=1)


def entries_per_week(published: Iterable[datetime | None], now: datetime) -> float | None:
    """How many entries a week the feed publishes, judged at `now` from its document's dates:
    those of the last 7 days, over the time observed (a week, or back to the oldest entry when
    the document holds less). None when no entry is dated (the rhythm is unknown); 0.0 when none
    is from the last week. A future date counts as now. Rounded to 0.1 to keep the state small."""
    moment = utc(now)
    times = [min(utc(p), moment) for p in published if p is not None]
    if not times:
        return None
    recent = sum(1 for t in times if moment - t <= RHYTHM_WINDOW)
    observed = max(RHYTHM_MIN_OBSERVED, min(RHYTHM_WINDOW, moment - min(times)))
    return round(recent * (RHYTHM_WINDOW / observed), 1)


def rhythm_interval(per_week: float | None, bounds: PollBounds) -> timedelta:
    """The interval a feed publishing `per_week` entries a week earns: a `rhythm_factor`-th of
    its mean gap between entries, within [default_interval, rhythm_max_interval]; the default
    when the rhythm is unknown, the longest when the feed published nothing last week."""
    if per_week is None:
        return bounds.default_interval
    if per_week <= 0:
        return bounds.rhythm_max_interval
    gap = RHYTHM_WINDOW / (per_week * bounds.rhythm_factor)
    return max(bounds.default_interval, min(gap, bounds.rhythm_max_interval))


def polling_interval(minutes: int | None, per_week: float | None, bounds: PollBounds) -> timedelta:
    """The interval a successful poll schedules from, before the feed's hints: the source's pinned
    interval when it sets one (`interval_for`), otherwise its rhythm."""
    if minutes is not None and minutes > 0:
        return interval_for(minutes, bounds)
    return rhythm_interval(per_week, bounds)


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


# -- the registry's rules: gone, the grid, due selection -----------------------------------------


def gone(source: Source, state: SourceState | None) -> bool:
    """Disabled (410 Gone, or an operator) for the URL the source still has: never polled again
    until someone edits the URL. Disabled for a URL it no longer has is not gone: the new URL is
    polled at the next tick."""
    return state is not None and state.disabled and state.feed_url_for in (None, source.feed_url)


def state_to_poll(source: Source, stored: SourceState | None) -> SourceState | None:
    """The state a poll of `source` starts from, or None when the source is gone. A source
    disabled for an old URL starts afresh (no backoff, due now) on its new one."""
    if gone(source, stored):
        return None
    if stored is None:
        return SourceState(source_id=source.id)
    if stored.disabled:
        return replace(stored, disabled=False, disabled_reason=None, next_poll=None, consecutive_failures=0)
    return stored


def with_grid(state: SourceState, now: datetime) -> SourceState:
    """A success's state with the delay it scheduled remembered (whole minutes, so a feed's hint
    that wobbles by seconds does not count as a change): together with `next_poll` it gives every
    later poll time, the grid next_poll + k * poll_interval_s, so unchanged polls need not write."""
    if state.next_poll is None:
        return state
    minutes = max(1, round((state.next_poll - now).total_seconds() / 60))
    return replace(state, poll_interval_s=minutes * 60)


def _grid(state: SourceState | None) -> tuple[datetime, timedelta] | None:
    """The grid's first point and step, for a healthy source that has one; a failing source is
    due at its backoff `next_poll` instead."""
    if state is None or state.next_poll is None or not state.poll_interval_s or state.consecutive_failures:
        return None
    return utc(state.next_poll), timedelta(seconds=state.poll_interval_s)


def _grid_point(first: datetime, step: timedelta, moment: datetime, *, strictly_after: bool) -> datetime:
    """The first point of the grid first + k * step (k >= 0) at or (strictly) after `moment`."""
    if first > moment or (first == moment and not strictly_after):
        return first
    point = first + ((moment - first) // step) * step
    return point + step if point < moment or strictly_after else point


def on_grid(state: SourceState | None, now: datetime, since: datetime | None, slack: timedelta = DUE_SLACK) -> bool:
    """For a healthy source whose `next_poll` has passed: whether a point of its grid
    next_poll + k * poll_interval_s falls in this tick's window (since, now], both ends moved by
    the tick slack as `is_due` does. Consecutive windows share their ends, so every grid point
    is dispatched exactly once, however late or early EventBridge runs the ticks; a tick that
    never ran only widens the next window."""
    grid = _grid(state)
    if grid is None or since is None:
        return True
    return _grid_point(*grid, since + slack, strictly_after=True) <= now + slack


def next_poll_at(source: Source, state: SourceState | None, now: datetime) -> datetime | None:
    """When the dispatcher will next poll `source` (no earlier than `now`), or None when it never
    will (disabled in its settings, or gone).

    Once a healthy source's stored `next_poll` has passed it is polled on its grid (`on_grid`):
    the answer is the first grid point at or after `now`. A source never polled, failing past its
    backoff, or without a grid is due at the next tick: `now`. Ticks run every few minutes, so
    the poll itself happens up to a tick around that time.
    """
    if not source.enabled or gone(source, state):
        return None
    if state is None or state.disabled or state.next_poll is None:
        return now
    due = utc(state.next_poll)
    if due >= now:
        return due
    grid = _grid(state)
    return now if grid is None else _grid_point(*grid, now, strictly_after=False)


def source_status(state: SourceState | None, next_poll: datetime | None) -> str:
    """A source's health for `/sources`: disabled, unknown (never polled), failing or ok."""
    if next_poll is None:
        return "disabled"
    if state is None or (state.last_success is None and state.last_error is None):
        return "unknown"
    return "failing" if state.consecutive_failures else "ok"


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sources: int  # in the registry
    due: int  # enqueued for polling
    disabled: int  # configured off or gone (410)
    not_due: int


def select_due(
    sources: Sequence[Source], states: Mapping[str, SourceState], now: datetime, *, since: datetime | None = None
) -> list[Source]:
    """The sources to poll at this tick; `since` is when the previous tick ran (None: unknown,
    so any source whose `next_poll` has passed is due)."""
    chosen = []
    for source in sources:
        state = states.get(source.id)
        if not source.enabled or gone(source, state):
            continue
        if state is not None and state.disabled:
            state = None  # disabled for an URL the source no longer has: poll the new one now
        if is_due(state, now) and on_grid(state, now, since):
            chosen.append(source)
    return chosen


def due_sources(
    sources: Sequence[Source], states: Mapping[str, SourceState], now: datetime, *, since: datetime | None = None
) -> DispatchReport:
    """Counts for `select_due` (kept separate so the dispatcher can log them)."""
    due = select_due(sources, states, now, since=since)
    disabled = sum(1 for s in sources if not s.enabled or gone(s, states.get(s.id)))
    return DispatchReport(
        sources=len(sources), due=len(due), disabled=disabled, not_due=len(sources) - len(due) - disabled
    )


# -- pushed sources (WebSub, issue 19) -------------------------------------------------------------


def pushed_next_poll(normal: datetime, now: datetime, until: datetime | None, safety_net: timedelta) -> datetime:
    """When a source a hub pushes is next polled: the slow safety net (`WebSubLimits.
    safety_net_seconds`), but never after `until` (`pushed_until`: when its lease ends or its hub
    would count as silent), so polling resumes its normal rhythm the moment push can no longer be
    trusted; never sooner than `normal`, the time the poll's own rules chose. `until` None (not
    pushed): `normal`. Polling steps back, never away."""
    if until is None or until <= now:
        return normal
    return max(normal, min(now + safety_net, until))


def pushed_until(
    sub: Subscription | None, now: datetime, limits: WebSubLimits = DEFAULT_WEBSUB_LIMITS
) -> datetime | None:
    """Until when a WebSub subscription may stand in for polling (None: it may not now): while it
    is active, its lease has not ended, and its hub spoke (verified or delivered) within
    `WebSubLimits.silent_after_seconds`. A failed renewal leaves it "denied": None at once."""
    if sub is None or sub.state != "active" or sub.lease_expires is None:
        return None
    heard = max(t for t in (sub.last_delivery, sub.verified_at, sub.requested_at) if t is not None)
    until = min(sub.lease_expires, heard + timedelta(seconds=limits.silent_after_seconds))
    return until if until > now else None
