"""What the daily digest and the team reminders say: plain data for the templates.

Pure functions: the job gathers the ledger's facts, these shape them into
the context each template receives, and ``render`` does the words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from ..core.calendar import Month, Week
from ..core.config import COMMAND
from ..core.model import CHANNELS, POSTED_BY_HAND, Activity, TeamWeek
from ..plan.columns import THIS, Standing
from ..plan.obligations import AS_WRITTEN, DEPUTIES, DEPUTIES_REPORT, PLAN_LEAD, PRESS, Plan
from ..plan.review import effective_state
from ..plan.rules import CONFERENCE_KINDS, Finding, conferences_coming, pack_period, visit_label

BAR_WIDTH = 160  # pixels: table cells with widths render in every mail client, Outlook included

STATE_LABELS = {
    "temporary": "暂时失败，将自动重试",
    "permanent": "被拒收",
    "unknown": "发送中断，无法确认是否送达",
    "abandoned": "多次重试失败，已停止",
    "blocked": "含未遮蔽的个人信息，已拦截",
}
PURPOSE_LABELS = {"digest": "每日简报", "reminder": "催报提醒", "draft": "稿件审核", "release": "媒体发布",
                  "network": "信息网投稿", "alert": "拦截通知", "summary": "工作小结", "brief": "代表委员简报",
                  "invitation_draft": "邀请函审核", "invitation": "代表委员邀请函", "invitation_alert": "邀请函变更提醒",
                  "trial": "试发"}


def progress(team: TeamWeek) -> dict[str, Any]:
    done = team.valid if team.quota == 0 else min(team.valid, team.quota)
    ratio = 1.0 if team.quota == 0 else done / team.quota
    filled = round(BAR_WIDTH * ratio)
    return {**asdict(team), "short": team.short, "percent": round(ratio * 100),
            "filled": filled, "empty": BAR_WIDTH - filled, "on_track": team.short == 0}


def outlook(today: date, activities: Sequence[Activity], plan: Plan = AS_WRITTEN) -> list[str]:
    """The coming obligations, met or not: press conferences, deputies' visits, plans due."""
    lines = []
    press_rule, visit_rule, lead_rule = plan[PRESS], plan[DEPUTIES], plan[PLAN_LEAD]
    press = sorted((a for a in activities if press_rule.counted(a.kind) and a.day.year == today.year),
                   key=lambda a: a.day)
    held = [a for a in press if a.took_place(today)]
    planned = [a.day for a in press if a.day > today and a.held is not False]
    unmarked = [a.day for a in press if a.day <= today and a.held is None]
    line = f"{press_rule.name}：今年已召开 {len(held)} 次，{press_rule.required}"
    if planned:
        line += f"；已安排 {planned[0].month}月{planned[0].day}日"
    if unmarked:
        days = "、".join(f"{d.month}月{d.day}日" for d in unmarked)
        line += f"；{days}的发布会如已召开，请在“活动”页“已召开”栏填“是”"
    lines.append(line)
    month = [a.day for a in activities if visit_rule.counted(a.kind) and Month.of(a.day) == Month.of(today)]
    if month:
        days = "、".join(f"{d.month}月{d.day}日" for d in sorted(month))
        lines.append(f"{visit_rule.name}：本月 {len(month)} 次（{days}），{visit_rule.required}")
    else:
        lines.append(f"{visit_rule.name}：本月尚未安排，{visit_rule.required}")
    for activity in sorted(activities, key=lambda a: a.day):
        if not lead_rule.counted(activity.kind) or activity.day < today:
            continue
        due = activity.day - timedelta(days=lead_rule.days)
        plan_line = (f"方案已于{activity.plan_date.month}月{activity.plan_date.day}日报送" if activity.plan_date
                     else f"方案应于{due.month}月{due.day}日前报送，尚未收到")
        lines.append(f"{lead_rule.name}：{activity.day.month}月{activity.day.day}日“{activity.name}”，{plan_line}")
    return lines


PACK_COMMAND = "conference-pack"


def pack_command(conference: Activity, activities: Sequence[Activity], start: date) -> str:
    """The command that makes ``conference``'s pack, as the office types it here: named by its day; by its name
    when another press event shares the day and the name is its own; else (unnamed, or a name another press
    event has too) by its period, ``start`` to its day, as neither its day nor its name could pick it."""
    same_day = [a for a in activities if a.kind in CONFERENCE_KINDS and a.day == conference.day]
    if len(same_day) == 1:
        return f"{COMMAND} {PACK_COMMAND} --activity {conference.day.isoformat()}"
    folded = "".join(conference.name.split())
    namesakes = [a for a in activities if a.kind in CONFERENCE_KINDS and "".join(a.name.split()) == folded]
    if folded and len(namesakes) == 1 and '"' not in conference.name:
        return f'{COMMAND} {PACK_COMMAND} --activity "{conference.name}"'
    return f"{COMMAND} {PACK_COMMAND} --from {start.isoformat()} --to {conference.day.isoformat()}"


def conference_offers(today: date, activities: Sequence[Activity], days: int) -> list[dict[str, Any]]:
    """四(二): each press event planned within ``days`` days, with the command that makes its pack (the
    typical cases published since the last one held, and the figures) and the period the pack covers."""
    offers = []
    for conference in conferences_coming(activities, today, days):
        start, _ = pack_period(conference, activities, today)
        left = (conference.day - today).days
        when = "今天" if left == 0 else f"{conference.day.month}月{conference.day.day}日（{left} 天后）"
        title = f"{conference.kind}“{conference.name}”" if conference.name else conference.kind
        offers.append({"day": conference.day, "name": conference.name, "kind": conference.kind, "left": left,
                       "line": f"{title}将于{when}召开，可生成发布会材料（{start.year}年{start.month}月{start.day}日"
                               "以来已发布的典型案例和执行工作数据，Word 文档，可修改）",
                       "command": pack_command(conference, activities, start)})
    return offers


def channel_board(versions: Sequence[Any], network: dict[str, str]) -> list[dict[str, Any]]:
    """Per release, each channel's version: ready to post, posted (when, by whom), or mailed.

    ``versions`` are channel_versions rows joined with their draft; ``network``
    maps a draft ID to the state of its mail to the national network.
    """
    board: dict[str, dict[str, Any]] = {}
    for row in versions:
        release = board.setdefault(row["draft_id"], {"id": row["draft_id"], "headline": row["headline"],
                                                     "kind": row["kind"], "channels": [], "open": 0})
        channel = row["channel"]
        if channel in POSTED_BY_HAND:
            posted = bool(row["posted_at"])
            status = (f"已发（{row['posted_by']}，{row['posted_at'][5:16].replace('T', ' ')}）" if posted
                      else "待发布")
        else:
            posted = network.get(row["draft_id"]) == "sent"
            status = "已投稿" if posted else STATE_LABELS.get(network.get(row["draft_id"], ""), "排队待发")
        release["channels"].append({"channel": channel, "label": CHANNELS.get(channel, channel),
                                    "posted": posted, "status": status})
        release["open"] += not posted
    return list(board.values())


def column_state(standing: Standing, period: str = "") -> str:
    """Where one column stands in one period, in a sentence. The current period (the digest's) is 本周, 本期
    or 本月: ``本周已刊发 1 期（11月26日 D-2026-000001，第3版）``, ``本期（11月16日至11月29日）尚无刊发登记``;
    a summary names it: ``2026年第48周（11月23日至11月29日）：已刊发 1 期（…）``."""
    if standing.filled:
        from .redact import mask_outside_links     # the masking rules load when a column has its piece

        pieces = "；".join(f"{p.day.month}月{p.day.day}日 {p.draft_id}" + (f"，{mask_outside_links(p.slot)}"
                                                                         if p.slot else "")
                           for p in standing.pieces)
        state = f"已刊发 {len(standing.pieces)} 期（{pieces}）"
    elif not standing.owed:
        state = "为豁免周，不作要求"
    else:
        state = "尚无刊发登记"
    if period:
        return f"{period}（{standing.span}）：{state}"
    this = THIS[standing.column.cadence]
    return f"{this}{state}" if standing.filled else f"{this}（{standing.span}）{state}"


def invitees(invitation: dict[str, Any]) -> str:
    """Who one invitation went to and what each answered, as the office reads it:
    王代表（wang@npc.example）参加、li@cppcc.example（未送达）未回复."""
    states = {"sent": "", "queued": "（排队中）", "sending": "（发送中）"}
    return "、".join((f"{r['name']}（{r['address']}）" if r["name"] else r["address"])
                    + states.get(r["state"], "（未送达）") + _answer(r) for r in invitation["recipients"])


def _answer(recipient: dict[str, Any]) -> str:
    answer = recipient.get("answer") or "未回复"
    return f"{answer}（{recipient['note']}）" if recipient.get("note") else answer


def replies_tally(invitation: dict[str, Any]) -> str:
    """参加 2 人、不参加 1 人、未回复 3 人: the answers to one invitation, counted (none omitted but 未回复)."""
    counts: dict[str, int] = {}
    for r in invitation["recipients"]:
        answer = r.get("answer") or "未回复"
        counts[answer] = counts.get(answer, 0) + 1
    return "、".join(f"{a} {counts[a]} 人" for a in ("参加", "不参加", "待定", "未回复") if counts.get(a))


def digest_context(*, now: datetime, court: dict[str, str], teams: Sequence[TeamWeek],
                   findings: Sequence[Finding], new_versions: Sequence[Any], row_errors: Sequence[Any],
                   troubles: Sequence[Any], activities: Sequence[Activity], plan: Plan,
                   since: datetime | None, exempt: bool, slot_gaps: Sequence[str] = (),
                   waiting: Sequence[Any] = (), job_failures: Sequence[Any] = (),
                   sheet_warnings: Sequence[str] = (), channels: Sequence[dict[str, Any]] = (),
                   invitations: Sequence[Any] = (), invited: Sequence[dict[str, Any]] = (),
                   columns: Sequence[Standing] = (), pack_days: int = 0) -> dict[str, Any]:
    today = now.date()
    week = Week.of(today)
    new, changed = [], []
    for version in new_versions:
        data = json.loads(version["data"])
        item = {"id": version["submission_id"], "version": version["version"], "team": version["team"],
                "kind": data.get("kind", ""), "title": data.get("title", ""),
                "submitter": data.get("submitter", ""), "valid": version["state"] == "valid"}
        (new if version["version"] == 1 else changed).append(item)
    return {
        "court": court,
        "today": today,
        "now": now,
        "week": week.label,
        "monday": week.monday,
        "sunday": week.sunday,
        "exempt": exempt,
        "teams": [progress(t) for t in teams],
        "behind": [t.team for t in teams if t.short],
        "findings": [asdict(f) for f in findings if f.severity == "missing"],
        "warnings": [asdict(f) for f in findings if f.severity == "warning"],
        "new": new,
        "changed": changed,
        "since": since,
        "row_errors": [dict(r) for r in row_errors],
        "troubles": [{**dict(t), "state_label": STATE_LABELS.get(t["state"], t["state"]),
                      "purpose_label": PURPOSE_LABELS.get(t["purpose"], t["purpose"])} for t in troubles],
        "outlook": outlook(today, activities, plan),
        "conferences": conference_offers(today, activities, pack_days),
        "slot_gaps": list(slot_gaps),
        "waiting": [{**dict(d), "state": effective_state(d)} for d in waiting],
        "job_failures": [dict(j) for j in job_failures],
        "sheet_warnings": list(sheet_warnings),
        "channels": list(channels),
        "invitations": [dict(i) for i in invitations],
        "invited": [dict(i, who=invitees(i), tally=replies_tally(i)) for i in invited],
        "columns": [{"title": c.column.title, "cadence": c.column.cadence, "missing": c.missing,
                     "state": column_state(c)} for c in columns],
    }


def report_asks(visits: Sequence[Activity], plan: Plan = AS_WRITTEN) -> list[dict[str, Any]]:
    """三(十), 四(四): what a team's reminder asks for each visit it owns whose report has not come."""
    rule = plan[DEPUTIES_REPORT]
    return [{"activity": visit_label(v), "day": v.day, "due": v.day + timedelta(days=rule.days),
             "kind": rule.kinds[0], "required": rule.required} for v in visits]


def reminder_context(*, now: datetime, court: dict[str, str], team: TeamWeek, leader: str,
                     row_errors: Sequence[Any], reports: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A team's weekly reminder: how far it is behind its quota (``short`` 0 when on track), and the reports
    of the visits it owns still to come (``reports``, :func:`report_asks`)."""
    week = Week.of(now.date())
    return {
        "court": court,
        "today": now.date(),
        "monday": week.monday,
        "sunday": week.sunday,
        "team": team.team,
        "leader": leader,
        "valid": team.valid,
        "quota": team.quota,
        "short": team.short,
        "row_errors": [dict(r) for r in row_errors],
        "reports": [dict(r) for r in reports],
    }
