"""The command line: one small function per command, errors become exits here only.

Exit codes (docs/architecture.md): 0 ok, 1 a job failed and said why, 2 bad usage or
bad config.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..core import clock, config, normalize, shutdown
from ..core.calendar import Month, Week
from ..core.errors import LEDGER_FAULTS, PipelineError, SourceBusy, SourceChanged, UsageError
from ..core.layout import ALL_TABS
from ..core.model import CHANNEL_LIST, CHANNELS
from . import logs, usage

TAB_NAMES = "、".join(tab.name for tab in ALL_TABS)

if TYPE_CHECKING:
    from ..flows import dispatch
    from ..flows.context import Context

# A command imports what it uses, in its own function: `status` never loads openpyxl, python-docx or Jinja.

log = logging.getLogger("pipeline")

Command = Callable[[argparse.Namespace], int]

HAND = [c for c in CHANNEL_LIST if c.by_hand]     # the channels the office posts and marks posted
DRY_RUN_HELP = "只显示将发送的邮件，不发送也不记账"     # every sending command's --dry-run


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_console()
    with usage.chinese():
        parser = _parser()
        args = parser.parse_args(argv)
    logs.setup(args.handler.__name__.removeprefix("cmd_"), verbose=args.verbose, config_path=_config_path(args),
               dry_run=getattr(args, "dry_run", False))
    shutdown.install()
    try:
        code = args.handler(args)
        sys.stdout.flush()          # inside the try: a reader gone early is a broken pipe handled below
        return code
    except PipelineError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.exit_code
    except LEDGER_FAULTS as exc:
        # The ledger failed in the middle of a job (or holds a damaged record): its transaction was rolled
        # back, nothing is half-done.
        trouble = _ledger_trouble(args, exc)
        logs.failed(exc, trouble)          # one line in the log file, unless the job's own line said it
        print(f"错误：{trouble}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped early (`publish --dry-run | head`): say nothing more, to a pipe nobody reads.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=config.COMMAND,
        description="执行宣传工作流水线：读取素材表、核对工作方案任务、生成稿件并发送邮件。",
    )
    parser.add_argument("--config", type=Path, default=None, metavar="配置文件",
                        help=f"配置文件（默认 {config.DEFAULT_CONFIG.relative_to(config.PROJECT_ROOT)}，"
                             "或环境变量 PIPELINE_CONFIG）")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}", help="显示版本号并退出")
    commands = parser.add_subparsers(title="命令", metavar="命令", required=True)

    init = _command(commands, "init", f"创建配置（如不存在）和工作簿（分页：{TAB_NAMES}）")
    init.add_argument("--demo", action="store_true", help="填入本周的示例素材、部门、媒体和活动")
    init.add_argument("--force", action="store_true", help="覆盖已有的工作簿")
    init.set_defaults(handler=cmd_init)

    pull = _command(commands, "pull", "读取工作簿，校验素材，分配编号并写回状态")
    pull.add_argument("--dry-run", action="store_true", help="只校验和报告，不写账本也不写工作簿")
    pull.set_defaults(handler=cmd_pull)

    status = _command(commands, "status", "本周各部门报送情况和最近发现的问题")
    status.add_argument("--errors", type=int, default=20, metavar="行数", help="最多列出多少行问题（默认 20）")
    status.add_argument("--json", action="store_true", help="以 JSON 输出（供脚本和监控）")
    status.set_defaults(handler=cmd_status)

    check = _command(commands, "check", "按工作方案核对本周、本月、本年任务，列出未完成项（有未完成项时退出码为 1）")
    check.add_argument("--json", action="store_true", help="以 JSON 输出（供脚本和监控）")
    check.set_defaults(handler=cmd_check)

    digest = _command(commands, "digest", "给办公室发送每日简报（每天一次）")
    digest.add_argument("--force", action="store_true", help="今天已发过也再发一份")
    _dry_run_options(digest)
    digest.set_defaults(handler=cmd_digest)

    remind = _command(commands, "remind", "给本周未完成任务的部门负责人发送催报提醒（每周一次）")
    _dry_run_options(remind)
    remind.set_defaults(handler=cmd_remind)

    draft = _command(commands, "draft", "为新素材生成稿件（已遮蔽个人信息），发给办公室审核")
    _dry_run_options(draft, "只显示将生成的稿件和发给办公室的邮件，不记账也不发送")
    draft.set_defaults(handler=cmd_draft)

    approve = _command(commands, "approve", "审核通过一篇稿件或一封邀请函")
    approve.add_argument("draft_id", metavar="编号",
                         help="草稿编号，如 D-2026-000045 或 D-2026-000045-v2；邀请函编号，如 I-2026-000003")
    approve.add_argument("--by", default="", metavar="审核人", help="配置 [review] reviewers 中的宣传办成员（必填）")
    approve.set_defaults(handler=cmd_approve)

    reject = _command(commands, "reject", "退回一篇稿件或一封邀请函")
    reject.add_argument("draft_id", metavar="编号", help="草稿编号或邀请函编号")
    reject.add_argument("--reason", required=True, metavar="理由", help="退回理由（必填）")
    reject.add_argument("--by", default="", metavar="审核人", help="配置 [review] reviewers 中的宣传办成员（必填）")
    reject.set_defaults(handler=cmd_reject)

    publish = _command(commands, "publish", "把已通过的稿件发给订阅该类别的媒体（每家一次）")
    _dry_run_options(publish)
    publish.add_argument("--test-to", default="", metavar="邮箱",
                         help="试发：把已通过的稿件按媒体收到的样子只发给这个邮箱（标题加【试发】），不算发布，不改任何状态")
    publish.set_defaults(handler=cmd_publish)

    posted = _command(commands, "posted", "记录已把稿件的微信、微博或网站版本发出")
    posted.add_argument("draft_id", metavar="编号", help="草稿编号")
    posted.add_argument("--channel", required=True, metavar="渠道",
                        help=f"{' / '.join(c.label for c in HAND)}（或 {' / '.join(c.key for c in HAND)}）")
    posted.add_argument("--by", default="命令行", metavar="发布人", help="谁发的（默认：命令行）")
    posted.set_defaults(handler=cmd_posted)

    brief = _command(commands, "brief", "给人大代表、政协委员发送月度执行工作简报（每月一期）")
    brief.add_argument("--month", metavar="年-月", help="哪个月的简报，如 2026-11（默认上个月）")
    _dry_run_options(brief)
    brief.set_defaults(handler=cmd_brief)

    pack = _command(commands, "conference-pack",
                    "生成新闻发布会材料（Word 文档，可修改）：时段内已发布的典型案例（按类别）和执行工作数据")
    pack.add_argument("--activity", default="", metavar="发布会",
                      help="活动页上的发布会，写日期（如 2026-12-10）或名称；时段为上次召开的发布会之后到该发布会"
                           "（不写本项也不写时段时，取下一场待召开的发布会）")
    pack.add_argument("--from", dest="start", default="", metavar="开始日期", help="时段的第一天，如 2026-06-01")
    pack.add_argument("--to", dest="end", default="", metavar="结束日期", help="时段的最后一天，如 2026-11-30（默认今天）")
    pack.add_argument("--out", type=Path, default=None, metavar="路径",
                      help="写到这个 .docx 文件或已有的文件夹（默认：发件箱的 conference 文件夹）；不覆盖已有的文件")
    pack.set_defaults(handler=cmd_conference_pack)

    resend = _command(commands, "resend", "有意重发一封送达情况不明或失败的稿件邮件")
    resend.add_argument("draft_id", metavar="编号", help="草稿编号")
    resend.add_argument("--to", required=True, metavar="邮箱", help="媒体邮箱")
    _dry_run_options(resend, "只显示将重发的邮件，不重发也不记账")
    resend.set_defaults(handler=cmd_resend)

    backup = _command(commands, "backup", "用数据库的在线备份功能备份账本（服务运行时也可以）")
    backup.add_argument("--to", type=Path, default=None, metavar="路径",
                        help="备份到这个文件或文件夹（默认：账本旁的 backups 文件夹，以时间命名）")
    backup.set_defaults(handler=cmd_backup)

    once = _command(commands, "once", "运行一轮：读取→核对→生成稿件→发布，到点则发简报、提醒和小结（供 cron / 定时任务）")
    once.add_argument("--due", action="store_true",
                      help="只运行此刻按时间表到点的任务（按配置的时区：办公时间内每轮一次，到点的简报、提醒、小结），"
                           "没有到点的就什么也不做；供每 15 分钟触发一次的 cron / 定时任务使用")
    _dry_run_options(once, "只显示这一轮将读取什么、运行哪些任务、发送哪些邮件，不记账、不写工作簿、不发送")
    once.set_defaults(handler=cmd_once)

    run = _command(commands, "run", "常驻运行，按配置的时间表执行各项任务（供 systemd / 服务）")
    run.set_defaults(handler=cmd_run)
    return parser


def _command(commands, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand whose help line in the list is also the first line of its own ``--help``."""
    return commands.add_parser(name, help=help, description=help)


def _dry_run_options(command: argparse.ArgumentParser, help: str = DRY_RUN_HELP) -> None:
    """``--dry-run`` and ``--show`` of every sending command: what the real run would send, bodies if asked."""
    command.add_argument("--dry-run", action="store_true", help=help)
    command.add_argument("--show", action="store_true", help="试运行时显示每封邮件的正文")


def _config_path(args: argparse.Namespace) -> Path:
    if args.config is not None:
        return args.config
    env = os.environ.get("PIPELINE_CONFIG")
    return Path(env) if env else config.DEFAULT_CONFIG


def _ledger_trouble(args: argparse.Namespace, exc: Exception) -> str:
    from ..ledger import trouble as ledger_trouble
    try:
        ledger = _settings(args).ledger
    except PipelineError:
        return ledger_trouble(None, exc)
    return ledger_trouble(ledger.path, exc, wait=ledger.wait_seconds)


def _settings(args: argparse.Namespace) -> config.Settings:
    return config.load(_config_path(args))


@contextmanager
def _context(args: argparse.Namespace, *, sending: bool = False) -> Iterator[Context]:
    """The one context a command's job runs in: the settings, the ledger, the moment, the transport.

    A command that may send checks first that the transport can (the SMTP password is set): a setting a
    person must fix is a configuration error (exit 2) before anything is queued."""
    from ..flows.context import Context
    from ..mail.transport import open_transport
    settings = _settings(args)
    if sending:
        open_transport(settings).ready()
    with Context.open(settings) as ctx:
        yield ctx


def cmd_init(args: argparse.Namespace) -> int:
    from ..plan.obligations import Plan
    from . import scaffold
    path = _config_path(args)
    if not path.exists():
        if path.resolve() == config.DEFAULT_CONFIG and not config.INSTALLED:
            raise UsageError(f"{path}: 项目自带的默认配置文件不见了，请用 git checkout -- config/pipeline.toml 恢复")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config.render_default(), encoding="utf-8")
        print(f"已创建配置文件 {path}")
    settings = config.load(path)
    if settings.sheet.backend != "xlsx":
        raise UsageError(f"{path}: init 只为本地工作簿（[sheet] backend = \"xlsx\"）生成模板")
    workbook = settings.sheet.path
    assert workbook is not None
    now = clock.now(settings.timezone)
    try:
        scaffold.write_workbook(workbook, now=now, demo=args.demo, force=args.force, plan=Plan.of(settings))
    except FileExistsError:
        print(f"工作簿已存在，保留不动：{_shown(workbook)}")
        print(f"如需重新开始，运行 {config.COMMAND} init --demo --force（会覆盖该工作簿）")
        return 0
    what = ("示例工作簿（本周素材、部门、媒体及其专栏、活动、上月数据、刊发登记、代表委员回执）" if args.demo
            else f"空白工作簿（分页：{TAB_NAMES}）")
    print(f"已创建{what}：{_shown(workbook)}")
    print(f"下一步：{config.COMMAND} once 运行一轮（读取并校验素材、生成稿件、到点发送简报和提醒）")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from ..flows import pulling
    from . import report
    with _context(args) as ctx:
        summary = pulling.pull(ctx, dry_run=args.dry_run)
    settings = ctx.settings
    where = _shown(settings.sheet.path) if settings.sheet.path else str(settings.sheet.spreadsheet)
    text = report.pull_summary(summary, where, dry_run=args.dry_run)
    if args.dry_run:
        text = "（试运行：未写账本，未写工作簿）\n" + text
    elif (summary.flagged or summary.other_errors) and summary.waiting is None:
        text += f"\n需补正的行已在 {where} 的“状态”列注明原因；修改后下一轮自动重新受理。"
    elif summary.flagged or summary.other_errors:
        text += f"\n需补正的行将在写回时于“状态”列注明原因；现在可用 {config.COMMAND} status 查看。"
    print(text)
    print(f"运行 {config.COMMAND} status 查看本周各部门报送进度。")
    # A workbook open or edited meanwhile heals by itself at a later cycle; anything else needs a person.
    return 1 if summary.waiting is not None and not isinstance(summary.waiting, (SourceBusy, SourceChanged)) else 0


def cmd_status(args: argparse.Namespace) -> int:
    from ..flows import week
    from . import report
    with _context(args) as ctx:
        status = week.status(ctx, error_limit=args.errors)
    print(report.week_status_json(status) if args.json else report.week_status(status))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when every obligation is met, 1 when one is not (for monitoring; docs/architecture.md)."""
    from ..flows import week
    from . import report
    with _context(args) as ctx:
        findings = week.check(ctx)
    print(report.findings_json(findings) if args.json else report.findings(findings))
    return 1 if any(f.severity == "missing" for f in findings) else 0


def cmd_digest(args: argparse.Namespace) -> int:
    from ..flows import week
    with _context(args, sending=not args.dry_run) as ctx:
        run = week.digest(ctx, force=args.force, dry_run=args.dry_run)
    return _mail_outcome(ctx.settings, run, "每日简报", show=args.show)


def cmd_remind(args: argparse.Namespace) -> int:
    from ..flows import week
    with _context(args, sending=not args.dry_run) as ctx:
        run = week.remind(ctx, dry_run=args.dry_run)
    if not run.skipped and not run.queued and not run.previews and not (run.report and run.report.results):
        print("本周没有需要提醒的部门（均已完成任务，或本周提醒已发送）。")
    return _mail_outcome(ctx.settings, run, "催报提醒", show=args.show)


def cmd_draft(args: argparse.Namespace) -> int:
    from ..flows import publishing
    from . import report
    with _context(args, sending=not args.dry_run) as ctx:
        run = publishing.draft(ctx, dry_run=args.dry_run)
    text, failed = report.publish_run(run, "稿件", _where_mail(ctx.settings), show=args.show)
    print(text)
    return 1 if failed else 0


def _reviewer(settings, name: str) -> tuple[str, str]:
    """The listed office member the command line acts for, and where the decision came from
    (the command line and the operating-system account that ran it): approval is the office's alone."""
    name = name.strip()
    listed = "、".join(settings.review.reviewers)
    if not name:
        raise UsageError(f"请用 --by 写明审核人（宣传办成员：{listed}）")
    if name not in settings.review.reviewers:
        raise UsageError(f"{name} 不是登记的审核人（宣传办成员：{listed}；名单在配置文件 [review] reviewers 中）")
    import getpass                          # the account's name: asked where a reviewer decides, not at start

    try:
        account = getpass.getuser()
    except (KeyError, OSError):            # no name for this account (a container, a service without HOME)
        account = str(os.getuid()) if hasattr(os, "getuid") else ""
    return name, f"cli:{account}" if account else "cli"


def cmd_approve(args: argparse.Namespace) -> int:
    from ..flows import decisions
    with _context(args) as ctx:
        by, source = _reviewer(ctx.settings, args.by)
        print(decisions.review(ctx, args.draft_id, "通过", reviewer=by, source=source))
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    from ..flows import decisions
    with _context(args) as ctx:
        by, source = _reviewer(ctx.settings, args.by)
        print(decisions.review(ctx, args.draft_id, "退回", reviewer=by, comment=args.reason, source=source))
    return 0


def cmd_posted(args: argparse.Namespace) -> int:
    from ..flows import decisions
    with _context(args) as ctx:
        draft_id, channel = decisions.posted(ctx, args.draft_id, args.channel, by=args.by)
    print(f"已记录：{draft_id} 的{CHANNELS[channel]}版本已发布（{args.by}）。")
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from ..flows import brief
    with _context(args, sending=not args.dry_run) as ctx:
        try:
            month = normalize.month(args.month or Month.of(ctx.at).previous.key)
        except normalize.Invalid as exc:
            raise UsageError(f"--month：{exc}") from None
        run = brief.brief(ctx, month, dry_run=args.dry_run)
    return _mail_outcome(ctx.settings, run, "代表委员简报", show=args.show)


def cmd_conference_pack(args: argparse.Namespace) -> int:
    from ..flows import conference
    with _context(args) as ctx:
        days = {}
        for option, value in (("--from", args.start), ("--to", args.end)):
            if value.strip():
                try:
                    days[option] = normalize.day(value, ctx.settings.timezone, label=option)
                except normalize.Invalid as exc:
                    raise UsageError(f"{exc}（日期写成 2026-06-01 或 2026年6月1日）") from None
        run = conference.pack(ctx, activity=args.activity, start=days.get("--from"), end=days.get("--to"),
                              out=args.out)
    kinds = "、".join(f"{kind} {n}" for kind, n in run.by_kind.items())
    print(f"已生成发布会材料：{_shown(run.path)}")
    print(f"{run.title}：收录{conference.period_label(run.start, run.end)}已发布的稿件 {run.releases} 篇"
          f"（{kinds}），其中典型案例 {run.cases} 篇；发往 {run.outlets} 家媒体。")
    if run.missing_months:
        print(f"注意：{'、'.join(run.missing_months)}的执行工作数据尚未录入“数据”页，材料中没有这"
              f"{'个月' if len(run.missing_months) == 1 else '几个月'}的数据；录入后重新运行即可。")
    print("用 Word 或 WPS 打开即可修改；重新运行会另存一份，不覆盖已修改的文件。")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from ..flows import publishing
    from . import report
    progress = _progress if sys.stderr.isatty() else None
    with _context(args, sending=not args.dry_run) as ctx:
        run = publishing.publish(ctx, dry_run=args.dry_run, progress=progress, test_to=_test_address(args.test_to))
    text, failed = report.publish_run(run, "媒体稿件", _where_mail(ctx.settings), show=args.show)
    print(text)
    return 1 if failed else 0


def _test_address(value: str) -> str:
    """``--test-to``: one address, checked as mail will need it."""
    if not value.strip():
        return ""
    from ..mail.message import MessageError, address
    try:
        return address(value.strip())[1]
    except MessageError as exc:
        raise UsageError(f"--test-to：{exc}") from None


def cmd_resend(args: argparse.Namespace) -> int:
    from ..flows import publishing
    from . import report
    with _context(args, sending=not args.dry_run) as ctx:
        run = publishing.resend(ctx, args.draft_id, args.to, dry_run=args.dry_run)
    text, failed = report.mail_run(run, "媒体稿件", _where_mail(ctx.settings), show=args.show)
    print(text)
    return 1 if failed else 0


def cmd_backup(args: argparse.Namespace) -> int:
    from ..flows import upkeep

    settings = _settings(args)
    if not settings.ledger.path.exists():
        raise UsageError(f"{_shown(settings.ledger.path)}: 账本不存在，没有可备份的内容（请检查配置 [ledger] path）")
    with _context(args) as ctx:
        target, size = upkeep.backup(ctx, args.to)
    shown = f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{max(1, round(size / 1024))} KB"
    print(f"已备份账本：{_shown(target)}（{shown}）")
    return 0


JOB_LABELS = {"cycle": "读取素材、生成稿件、发布", "digest": "每日简报", "remind": "催报提醒",
              "weekly-summary": "每周工作小结", "monthly-summary": "月度工作报告", "brief": "代表委员月度简报"}


def cmd_once(args: argparse.Namespace) -> int:
    from ..flows import waiting
    from ..ledger import Ledger
    from . import scheduler
    if args.dry_run:
        return _once_dry_run(args)
    settings = _settings(args)
    started = clock.now(settings.timezone)
    outcomes = scheduler.once(settings, due_only=args.due)
    if args.due:
        if not outcomes:                    # nothing due: a quiet log at night and at weekends
            return 0
        print(f"{started:%Y-%m-%d %H:%M}（{settings.timezone.key}）")
    labels = {"ok": "完成", "failed": "失败", "timeout": "超时", "skipped": "跳过"}
    for outcome in outcomes:
        detail = f"：{outcome.error}" if outcome.error else (f"（注意：{outcome.note}）" if outcome.note else "")
        period = _period_label(outcome.job, outcome.period, started)
        print(f"{JOB_LABELS.get(outcome.job, outcome.job)}{period}：{labels[outcome.result]}{detail}")
    with Ledger.of(settings.ledger) as ledger:
        waiting = bool(waiting.waiting_note(ledger))        # the 编号/状态 cells are not in the workbook yet
    if settings.sheet.path and not waiting:
        print(f"查看：工作簿 {_shown(settings.sheet.path)} 的“编号”“状态”列；{_where_mail(settings)}；"
              f"{config.COMMAND} status 查看本周进度和待审稿件。")
    elif settings.sheet.path:
        print(f"查看：{_where_mail(settings)}；{config.COMMAND} status 查看本周进度和待审稿件"
              "（“编号”“状态”写回后再看工作簿）。")
    return 1 if any(o.result in ("failed", "timeout") for o in outcomes) else 0


def _once_dry_run(args: argparse.Namespace) -> int:
    """What ``once`` would do now: the sheet read without recording, the jobs due, the mail they would send."""
    from ..flows import publishing, pulling
    from . import report, scheduler
    with _context(args) as ctx:
        settings = ctx.settings
        summary = pulling.pull(ctx, dry_run=True)
        slots = scheduler.waiting(ctx.ledger, settings, ctx.at)
        cycle = not args.due or any(slot.job == "cycle" for slot in slots)
        print("（试运行：不记账、不写工作簿、不发送）")
        where = _shown(settings.sheet.path) if settings.sheet.path else str(settings.sheet.spreadsheet)
        print(report.pull_summary(summary, where, dry_run=True) if cycle else "此刻不在办公时间内，不读取工作簿。")
        jobs = ([JOB_LABELS["cycle"]] if cycle else []) + [
            f"{JOB_LABELS.get(s.job, s.job)}{_period_label(s.job, s.period, ctx.at)}" for s in slots if s.job != "cycle"]
        print(f"将运行：{'；'.join(jobs)}" if jobs else "此刻没有到点的任务。")
        failed = False
        if cycle:
            text, failed = report.publish_run(publishing.publish(ctx, dry_run=True), "媒体稿件", _where_mail(settings),
                                              show=args.show)
            print(text)
            print("（新素材的稿件在记账后才生成，试运行不列出）")
        for slot in slots:
            if slot.job in scheduler.PREVIEWS:
                run = scheduler.PREVIEWS[slot.job](ctx, slot.period)
                text, _ = report.mail_run(run, JOB_LABELS[slot.job], _where_mail(settings), show=args.show)
                print(text)
    return 1 if failed else 0


def _period_label(job: str, period: str, started: datetime) -> str:
    """What a scheduled run covered, as its mail says it: the digest's day is the day it is written."""
    if job == "cycle":
        return ""
    if job == "digest":
        return f"（{started.month}月{started.day}日）"
    try:
        covered = Week.parse(period) if "-W" in period else Month.parse(period)
    except ValueError:
        return f"（{period}）"
    return f"（{covered.label}）"


def cmd_run(args: argparse.Namespace) -> int:
    from . import scheduler
    settings = _settings(args)
    if not args.verbose:
        logging.getLogger("pipeline").setLevel(logging.INFO)
    print(f"常驻运行中（时区 {settings.timezone.key}）；按 Ctrl+C 或发送 SIGTERM 停止。", flush=True)
    scheduler.run(settings)
    print("已停止。")
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\r已处理 {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def _mail_outcome(settings: config.Settings, run: dispatch.MailRun, label: str, *, show: bool = False) -> int:
    """Say what a mail job did; exit 1 when anything could not be delivered."""
    from . import report
    text, failed = report.mail_run(run, label, _where_mail(settings), show=show)
    print(text)
    return 1 if failed else 0


def _where_mail(settings: config.Settings) -> str:
    if settings.mail.transport == "outbox":
        return f"发件箱 {_shown(settings.mail.outbox)}（用浏览器打开其中的 index.html 预览）"
    return f"SMTP {settings.mail.smtp.host}:{settings.mail.smtp.port}"


def _shown(path: Path) -> str:
    """A path as short as it can be said from the current folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _utf8_console() -> None:
    """Chinese output must not crash a console whose encoding is not UTF-8 (Windows)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            reconfigure(errors="replace")
