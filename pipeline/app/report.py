"""Plain-text renderings for the terminal: tables that line up with Chinese text."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.config import COMMAND
from ..core.model import PullSummary
from ..flows.week import WeekStatus
from ..mail.delivery import SENT
from ..plan.review import FAILED_CHECK, effective_state
from ..plan.rules import Finding
from ..texts.notices import PURPOSE_LABELS, STATE_LABELS, invitees, replies_tally

if TYPE_CHECKING:   # what status and check print loads no drafting and no mail
    from ..flows.dispatch import MailRun
    from ..flows.publishing import PublishRun

_DRAFT_STATES = {"approved": "已通过，待发布", FAILED_CHECK: "未通过事实核对，待修改素材或模板"}


def width(text: str) -> int:
    """Terminal columns ``text`` occupies: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int] = frozenset()) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for number, row in enumerate(cells):
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            parts.append(pad + cell if i in numeric else cell + pad)
        lines.append("  ".join(parts).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pull_summary(summary: PullSummary, where: str, *, dry_run: bool = False) -> str:
    parts = [f"受理 {summary.accepted} 条"]
    details = [f"新增 {summary.new}" if summary.new else "",
               f"修改 {summary.changed}" if summary.changed else "",
               f"恢复编号 {summary.restored}" if summary.restored else ""]
    details = [d for d in details if d]
    if details:
        parts[0] += f"（{'，'.join(details)}）"
    parts.append(f"需补正或重复 {summary.flagged} 条")
    if summary.removed:
        parts.append(f"已从表中删除 {summary.removed} 条")
    lines = [f"读取素材 {summary.rows} 行：" + "；".join(parts) + "。"]
    if summary.other_errors:
        lines.append(f"部门、媒体、活动、审核、数据、刊发页共有 {summary.other_errors} 行有问题，见各页“状态”列。")
    if summary.waiting is not None:
        lines.append(f"本轮未写回 {where}：编号和状态等待写回，原因见下。")
    else:
        written = "将写回" if dry_run else "写回"
        lines.append(f"{written} {summary.cells_written} 个单元格（编号、状态）到 {where}。" if summary.cells_written
                     else f"工作簿无需改动：{where}。")
    lines.extend(f"注意：{w}" for w in ([summary.waiting_note] if summary.waiting_note else []) + summary.warnings)
    return "\n".join(lines)


def week_status(status: WeekStatus) -> str:
    week = status.week
    lines = [f"本周 {week.label}（{week.monday:%m月%d日}—{week.sunday:%m月%d日}，"
             f"截至 {status.generated_at:%Y-%m-%d %H:%M}）"]
    last = status.last_pull
    if last is None:
        lines.append(f"尚未读取过工作簿：先运行 {COMMAND} pull")
    elif last["action"] == "failed":
        lines.append(f"上次读取失败（{last['at'][:16].replace('T', ' ')}）：{_detail(last, 'error')}")
    else:
        lines.append(f"上次读取：{last['at'][:16].replace('T', ' ')}")
        for warning in json.loads(str(last["detail"])).get("warnings", []):
            lines.append(f"注意：{warning}")
    if status.waiting:
        lines.append(f"注意：{status.waiting}")
    lines.extend(f"注意：{gap}" for gap in status.setup)
    lines.append("")
    if status.teams:
        rows = [(t.team, t.valid, t.invalid, t.quota, f"差 {t.short}" if t.short else "已完成")
                for t in status.teams]
        total = [("合计", sum(t.valid for t in status.teams), sum(t.invalid for t in status.teams),
                  sum(t.quota for t in status.teams), f"{sum(1 for t in status.teams if t.short)} 个部门未完成")]
        lines.append(table(("部门", "有效", "需补正", "任务", "进度"), rows + total, numeric={1, 2, 3}))
    else:
        lines.append("部门表为空：请在工作簿的“部门”页填写各执行组")
    lines.append("")
    if status.errors:
        lines.append(f"最近一次读取发现的问题（共 {status.error_count} 行）：")
        rows = [(f"{e['tab']}页第{e['row']}行", e["team"] or "", e["message"]) for e in status.errors]
        lines.append(table(("位置", "部门", "问题"), rows))
        if status.error_count > len(status.errors):
            lines.append(f"……另有 {status.error_count - len(status.errors)} 行，见工作簿“状态”列")
    else:
        lines.append("最近一次读取没有发现问题。")
    lines.append("")
    if status.drafts:
        lines.append(f"稿件待办（{len(status.drafts)} 篇）：")
        rows = [(d["id"], d["kind"], _DRAFT_STATES.get(effective_state(d), "待审核"), d["headline"])
                for d in status.drafts]
        lines.append(table(("草稿编号", "类别", "状态", "标题"), rows))
    else:
        lines.append("没有待审核或待发布的稿件。")
    if status.invitations:
        lines.append(f"邀请函待办（{len(status.invitations)} 封）：")
        rows = [(i["id"], i["activity_day"], "已通过，待发给代表委员" if i["state"] == "approved" else "待审核",
                 i["activity_name"]) for i in status.invitations]
        lines.append(table(("编号", "活动日期", "状态", "活动"), rows))
    if status.invited:
        lines.append(f"已发出的邀请函（{len(status.invited)} 封，活动尚未举行）：")
        for i in status.invited:
            lines.append(f"  - {i['id']} {i['activity_day']}“{i['activity_name']}”，{i['sent_at']} 发给：{invitees(i)}"
                         f"；回执：{replies_tally(i)}")
    if status.channels:
        lines.append(f"发布渠道待发（{len(status.channels)} 篇；发出后运行 {COMMAND} posted 草稿编号 --channel 微信）：")
        for release in status.channels:
            waiting = "、".join(c["label"] for c in release["channels"] if not c["posted"])
            lines.append(f"  - {release['id']} {release['headline']}：{waiting}")
    if status.deliveries:
        sent = "已交给邮件服务器" if status.delivers else "已写入发件箱"
        labels = {"sent": sent, "queued": "排队中", "sending": "发送中", **STATE_LABELS}
        counts = "，".join(f"{labels.get(k, k)} {v}" for k, v in sorted(status.deliveries.items()))
        lines.append(f"邮件：{counts}")
        if not status.delivers:
            lines.append("（发件箱模式：邮件只写入发件箱文件夹，并未发出；要真正发送，请在配置 [mail] 中改用 SMTP）")
    for t in status.troubles:
        hint = f"；如确认未收到：{COMMAND} resend {t['item']} --to {t['recipient']}" \
            if t["state"] == "unknown" and t["what"] == "release" else ""
        lines.append(f"  - {PURPOSE_LABELS.get(t['purpose'], t['purpose'])} {t['recipient']}："
                     f"{STATE_LABELS.get(t['state'], t['state'])}（{t['detail']}）{hint}")
    return "\n".join(lines)


def week_status_json(status: WeekStatus) -> str:
    """``status --json``: the same facts for scripts and monitoring, keys in English, words in Chinese."""
    week = status.week
    data = {
        "week": {"key": week.key, "label": week.label, "monday": week.monday.isoformat(),
                 "sunday": week.sunday.isoformat()},
        "generated_at": status.generated_at.isoformat(timespec="seconds"),
        "last_pull": None if status.last_pull is None else {
            "at": status.last_pull["at"], "ok": status.last_pull["action"] == "done",
            "error": _detail(status.last_pull, "error") if status.last_pull["action"] == "failed" else ""},
        "write_back_waiting": status.waiting,
        "setup": status.setup,
        "teams": [{"team": t.team, "valid": t.valid, "invalid": t.invalid, "quota": t.quota, "short": t.short}
                  for t in status.teams],
        "row_errors": {"count": status.error_count,
                       "rows": [{"tab": e["tab"], "row": e["row"], "team": e["team"] or "", "message": e["message"]}
                                for e in status.errors]},
        "drafts": [{"id": d["id"], "kind": d["kind"], "state": effective_state(d), "headline": d["headline"]}
                   for d in status.drafts],
        "invitations": [{"id": i["id"], "day": i["activity_day"], "state": i["state"], "activity": i["activity_name"]}
                        for i in status.invitations],
        "invited": [{"id": i["id"], "day": i["activity_day"], "activity": i["activity_name"], "sent_at": i["sent_at"],
                     "recipients": i["recipients"]} for i in status.invited],
        "channels": [{"id": r["id"], "headline": r["headline"],
                      "waiting": [c["channel"] for c in r["channels"] if not c["posted"]]} for r in status.channels],
        "mail": {"delivers": status.delivers, "deliveries": status.deliveries,
                 "troubles": [{"what": t["what"], "item": t["item"], "recipient": t["recipient"], "state": t["state"],
                               "detail": t["detail"]} for t in status.troubles]},
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def findings_json(items: Sequence[Finding]) -> str:
    """``check --json``: every obligation not (yet) met, and the reminders."""
    return json.dumps({"met": not any(f.severity == "missing" for f in items),
                       "findings": [{"rule": f.rule, "subject": f.subject, "period": f.period,
                                     "shortfall": f.shortfall, "due": f.due.isoformat(), "message": f.message,
                                     "severity": f.severity} for f in items]}, ensure_ascii=False, indent=2)


def _detail(row: dict[str, object], key: str) -> str:
    try:
        return str(json.loads(str(row["detail"])).get(key, ""))
    except ValueError:
        return ""


def findings(items: Sequence[Finding]) -> str:
    if not items:
        return "工作方案规定的各项任务目前均已完成。"
    lines = [f"未完成的任务（{sum(1 for f in items if f.severity == 'missing')} 项）："]
    for f in items:
        if f.severity == "missing":
            lines.append(f"  - {f.message}（截止 {f.due:%Y-%m-%d}）")
    warnings = [f for f in items if f.severity != "missing"]
    if warnings:
        lines.append("提醒：")
        lines.extend(f"  - {f.message}" for f in warnings)
    return "\n".join(lines)


def mail_run(run: MailRun, label: str, where: str, *, show: bool = False) -> tuple[str, bool]:
    """The text for a mail job's outcome, and whether anything failed; ``show``: a dry run's bodies too."""
    lines: list[str] = []
    if run.previews:
        lines.append(f"（试运行：未发送，未记账）将发送 {len(run.previews)} 封{label}：")
        for preview in run.previews:
            lines.append(f"  - {preview.to}：{preview.subject}")
            if show:
                attached = "、".join(a.filename for a in preview.attachments)
                lines.extend(f"    | {line}" for line in preview.text.rstrip().splitlines())
                if attached:
                    lines.append(f"    | （附件：{attached}）")
    if run.skipped:
        lines.append(run.skipped)
    failed = False
    flushed = run.report
    if flushed is not None:
        if flushed.error:
            lines.append(f"邮件暂时无法发送：{flushed.error}；已排队，下次运行时重试。")
            failed = True
        for outgoing, result in flushed.results:
            purpose = PURPOSE_LABELS.get(outgoing.purpose, outgoing.purpose)
            if result.outcome == SENT and flushed.delivers:
                lines.append(f"已交给邮件服务器：{purpose}给 {outgoing.recipient}：{outgoing.subject}")
            elif result.outcome == SENT:
                lines.append(f"已写入发件箱（未发出）：{purpose}给 {outgoing.recipient}：{outgoing.subject}")
            else:
                failed = True
                lines.append(f"未能发送{purpose}给 {outgoing.recipient}（{STATE_LABELS[result.outcome]}）：{result.detail}")
        if flushed.interrupted:
            lines.append(f"注意：{flushed.interrupted} 封邮件上次发送时中断，无法确认是否送达，请在简报中核对。")
            failed = True
        if flushed.results:
            lines.append(f"查看：{where}")
    lines.extend(run.notes)
    return "\n".join(lines), failed


def publish_run(run: PublishRun, label: str, where: str, *, show: bool = False) -> tuple[str, bool]:
    """What draft or publish did, and whether anything failed."""
    lines: list[str] = []
    if run.withdrawn:
        lines.append(f"素材已修改或撤回，作废旧稿：{'、'.join(run.withdrawn)}")
    if run.drafted:
        lines.append(f"新生成稿件 {len(run.drafted)} 篇：{'、'.join(run.drafted)}")
    if run.proposed:
        lines.append(f"本周栏目建议发布：{'、'.join(run.proposed)}")
    for slot in run.no_candidate:
        lines.append(f"本周{slot}稿件没有候选素材")
    if run.published and run.trial:
        lines.append(f"试发（只发给 {run.trial}，不算发布，稿件仍待发布）：{'、'.join(run.published)}")
    elif run.published:
        lines.append(f"发布稿件：{'、'.join(run.published)}")
    for draft_id, reason in run.blocked:
        lines.append(f"已拦截 {draft_id}：{reason}（已通知办公室）")
    from ..flows.dispatch import MailRun

    text, failed = mail_run(MailRun(previews=run.previews, report=run.report), label, where, show=show)
    if text:
        lines.append(text)
    if not lines:
        lines.append("没有需要处理的稿件。")
    return "\n".join(lines), failed or bool(run.blocked)
