"""The one place that reads the current time.

Everything else receives aware datetimes. ``PIPELINE_NOW`` (an ISO 8601
timestamp with an offset) pins the clock, so that tests and replays of a
past week never depend on when they run.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .errors import ConfigError


def now(tz: ZoneInfo) -> datetime:
    """The current instant, expressed in ``tz``."""
    pinned = os.environ.get("PIPELINE_NOW")
    if pinned:
        try:
            moment = datetime.fromisoformat(pinned)
        except ValueError as exc:
            raise ConfigError(f"PIPELINE_NOW: 不是 ISO 8601 时间（如 2026-11-26T10:00:00+08:00）：{pinned!r}；"
                              "服务的环境中不应设置这个变量") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.astimezone(tz)
    return datetime.now(timezone.utc).astimezone(tz)
