"""Per-channel rate limits and daily quotas, counted in Redis so that every worker counts
together.

Rate: a fixed one-second window per channel and provider account (``INCR`` then ``EXPIRE``);
a worker over the limit waits for the next second. Quota: a counter per channel and school
per day in Vietnam, reserved before each send and given back when nothing was sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import redis

from ..core.clock import VIETNAM


@dataclass(frozen=True)
class Slot:
    ok: bool
    #: Seconds to wait before asking again (rate limit).
    wait: float = 0.0
    #: The school's daily quota for this channel is used up.
    exhausted: bool = False


class Limits:
    PREFIX = "tuition:msg"

    def __init__(self, connection: redis.Redis) -> None:
        self.redis = connection

    def _quota_key(self, channel: str, school_id: int, day: date) -> str:
        return f"{self.PREFIX}:quota:{channel}:{school_id}:{day:%Y%m%d}"

    def take(self, *, channel: str, account: str, school_id: int, per_second: int,
             daily_quota: int, now: datetime) -> Slot:
        """Reserve one send: a place in this second's window and one of today's quota."""
        day = now.astimezone(VIETNAM).date()
        if daily_quota > 0:
            key = self._quota_key(channel, school_id, day)
            with self.redis.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, 2 * 86400)
                used, _ = pipe.execute()
            if used > daily_quota:
                self.redis.decr(key)
                return Slot(False, exhausted=True)
        if per_second > 0:
            second = int(time.time())
            key = f"{self.PREFIX}:rate:{channel}:{account}:{second}"
            with self.redis.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, 3)
                count, _ = pipe.execute()
            if count > per_second:
                if daily_quota > 0:
                    self.redis.decr(self._quota_key(channel, school_id, day))
                return Slot(False, wait=max(second + 1 - time.time(), 0.01))
        return Slot(True)

    def give_back(self, *, channel: str, school_id: int, now: datetime) -> None:
        """Nothing was sent after all (the provider refused): the quota place is free."""
        key = self._quota_key(channel, school_id, now.astimezone(VIETNAM).date())
        if int(self.redis.get(key) or 0) > 0:
            self.redis.decr(key)

    def exhaust(self, *, channel: str, school_id: int, daily_quota: int,
                now: datetime) -> None:
        """The provider says its own quota is used up for today (Zalo's remainingQuota 0)."""
        key = self._quota_key(channel, school_id, now.astimezone(VIETNAM).date())
        self.redis.set(key, max(daily_quota, 1), ex=2 * 86400)

    def used(self, *, channel: str, school_id: int, now: datetime) -> int:
        return int(self.redis.get(
            self._quota_key(channel, school_id, now.astimezone(VIETNAM).date())) or 0)


def next_day_vn(now: datetime) -> datetime:
    """Midnight starting tomorrow in Vietnam (quotas reset then), in UTC as stored."""
    local = now.astimezone(VIETNAM)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                            VIETNAM).astimezone(UTC)
