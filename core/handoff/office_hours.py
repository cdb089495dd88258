"""When staff answer handoff tickets, and what to tell citizens outside those hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.texts import t

WEEKDAY_ZH = "一二三四五六日"


@dataclass(frozen=True)
class OfficeHours:
    """Staffed hours: `start`–`end` local time on `weekdays` (1 = Monday … 7 = Sunday)."""

    start: dt.time
    end: dt.time
    weekdays: frozenset[int]
    tz: ZoneInfo

    @classmethod
    def parse(cls, hours: str, days: str, tz: str) -> OfficeHours:
        """From settings strings: hours "09:00-17:00", days "1-5" or "1,2,3", tz "Asia/Shanghai"."""
        start_s, end_s = (part.strip() for part in hours.split("-", 1))
        weekdays: set[int] = set()
        for part in days.split(","):
            low, _, high = part.strip().partition("-")
            weekdays.update(range(int(low), int(high or low) + 1))
        if not weekdays <= set(range(1, 8)):
            raise ValueError("office days must be 1 (Monday) … 7 (Sunday)")
        start, end = dt.time.fromisoformat(start_s), dt.time.fromisoformat(end_s)
        if start >= end:
            raise ValueError("office hours: start must be before end")
        return cls(start, end, frozenset(weekdays), ZoneInfo(tz))

    def is_open(self, now: dt.datetime) -> bool:
        """True while staff are on duty."""
        local = now.astimezone(self.tz)
        return local.isoweekday() in self.weekdays and self.start <= local.time() < self.end

    def next_open(self, now: dt.datetime) -> dt.datetime:
        """The next opening time (local), strictly after `now` when closed."""
        local = now.astimezone(self.tz)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            opening = dt.datetime.combine(day, self.start, tzinfo=self.tz)
            if day.isoweekday() in self.weekdays and opening > local:
                return opening
        raise ValueError("no office days configured")

    def describe(self) -> str:
        """E.g. "周一至周五 09:00–17:00"."""
        days = sorted(self.weekdays)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
            label = f"周{WEEKDAY_ZH[days[0] - 1]}至周{WEEKDAY_ZH[days[-1] - 1]}"
        else:
            label = "、".join(f"周{WEEKDAY_ZH[d - 1]}" for d in days)
        return f"{label} {self.start:%H:%M}–{self.end:%H:%M}"

    def closed_notice(self, now: dt.datetime) -> str:
        """What a citizen reads when asking for a human outside office hours."""
        opening = self.next_open(now).strftime(t("reply.office_hours_opening"))
        return t("reply.office_hours", hours=self.describe(), opening=opening)
