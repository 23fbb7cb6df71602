"""The court's own channels (work plan 四(三)): WeChat, Weibo, the website, the national network.

When ``publishing.publish`` sends an approved release to the media, it also
renders the same masked release, in the form each channel expects, for every
channel the config's ``[channels]`` switches on:

- ``wechat``  — ``wechat.html``: a 公众号 article (title ≤ 64, digest ≤ 120
  characters) in inline styles only, which the WeChat editor keeps on paste;
- ``weibo``   — ``weibo.txt``: one post within ``weibo_limit`` as Weibo counts;
- ``website`` — ``website.html`` (a fragment for the CMS) and ``website.txt``
  (its title, summary, source and date);
- ``network`` — a submission email to the national courts' enforcement
  information network, with the media's .docx; sent by the mail queue.

The files go to ``<outbox>/channels/<draft id>/`` for the office to post by
hand. Everything here is pure except :func:`save_versions`, which writes the
files and records them in the ledger; ``publish`` guards every text of
:class:`Versions` before anything is written or queued.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError, PipelineError
from ..core.files import write_atomic
from ..core.model import CHANNELS, CHANNEL_LIST, NETWORK_PURPOSE, POSTED_BY_HAND, MessageKey
from ..ledger import Ledger
from ..mail.message import Attachment, Outgoing, address
from ..texts.render import RenderError, render, render_file

log = logging.getLogger(__name__)

FOLDER = "channels"                  # under the outbox: channels/<draft id>/
WECHAT_TITLE_LIMIT = 64              # characters the 公众号 editor takes as 标题
WECHAT_DIGEST_LIMIT = 120            # … as 摘要
WECHAT_AUTHOR_LIMIT = 8              # … as 作者
ELLIPSIS = "……"
NETWORK_NAME = "全国法院决胜“基本解决执行难”信息网"
# Punctuation that should not stand before "……".
_TRAILING = "，、；：。,;: \u3000"
# The release's own footer lines; every channel prints its own.
_FOOTER = ("来源：", "发布日期：")
# The headings under which a release tells its result (the release templates' outcome_label).
_OUTCOME_HEADINGS = ("执行结果", "工作成效", "评估结果")


class ChannelError(PipelineError):
    """A channel's version could not be written."""


@dataclass(frozen=True)
class Paragraph:
    text: str
    heading: bool = False            # a 【…】 section heading (text without the brackets)


@dataclass(frozen=True)
class Story:
    """What every channel is made from: the masked release as the office approved it."""

    draft_id: str
    kind: str
    headline: str
    paragraphs: tuple[Paragraph, ...]
    day: date                        # the release's date (the day it was approved)

    @property
    def lead(self) -> str:
        """The first paragraph: who did what, when (the release templates' ``lead``)."""
        return next((p.text for p in self.paragraphs if not p.heading), "")

    def section(self, *headings: str) -> list[str]:
        """The paragraphs under the first heading that is one of ``headings``."""
        found, inside = [], False
        for paragraph in self.paragraphs:
            if paragraph.heading:
                if inside:
                    break
                inside = paragraph.text in headings
            elif inside:
                found.append(paragraph.text)
        return found


@dataclass(frozen=True)
class ChannelFile:
    channel: str
    name: str                        # the file's name in the draft's folder
    content: str
    readable: tuple[str, ...]        # what the guard reads: the text as written, and an HTML file's words


@dataclass(frozen=True)
class Versions:
    """One release's versions for the channels switched on."""

    draft_id: str
    files: tuple[ChannelFile, ...] = ()
    mail: tuple[Outgoing, ...] = ()

    @property
    def channels(self) -> list[str]:
        """The channels produced, in the config's order."""
        made = {f.channel for f in self.files} | {m.purpose for m in self.mail}
        return [c for c in CHANNELS if c in made]

    def texts(self) -> list[tuple[str, str]]:
        """(where, text) of everything a reader of any channel sees, for the guard."""
        places = [(f"{CHANNELS[f.channel]}版本 {f.name}", text) for f in self.files for text in f.readable]
        for outgoing in self.mail:
            label = CHANNELS[outgoing.purpose]
            places += [(f"{label}投稿主题", outgoing.subject), (f"{label}投稿收件人", outgoing.name),
                       (f"{label}投稿正文", outgoing.text), (f"{label}投稿HTML", _html_text(outgoing.html))]
        return places


# --- counting and shortening --------------------------------------------------------

def _html_text(html: str) -> str:
    """What the guard reads of an HTML copy (the masking rules load when a version is made, not at start)."""
    from ..texts import redact

    return redact.html_text(html)


def _halves(text: str) -> int:
    """Half-characters as Weibo counts them: a full-width or CJK character is two, any other one.

    East Asian Wide, Fullwidth and Ambiguous characters (汉字, 【】, “”, ……) count
    full; Latin letters, digits, ASCII punctuation and spaces count half.
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def weibo_length(text: str) -> int:
    """How many characters Weibo counts for ``text``: CJK 1, half-width ½, rounded up.

    A link placeholder is counted as written (``[原文链接]`` is 5). Weibo itself
    counts a real URL as a short link of fixed length, so a URL pasted in its
    place never makes the post longer than a placeholder of 10 or more.
    """
    return (_halves(text) + 1) // 2


def shorten(text: str, limit: int, *, measure: Callable[[str], int] = len) -> str:
    """``text`` within ``limit`` (by ``measure``): whole if it fits, else cut and ended with "……".

    ``measure`` counts every character at least 1 (``len``, half-characters), so no cut longer than
    ``limit`` fits: the search starts there, not at the end of a text that may be a whole release long.
    """
    if measure(text) <= limit:
        return text
    if measure(ELLIPSIS) > limit:
        return ""
    cut = min(len(text), limit)
    while cut > 0 and measure(text[:cut].rstrip(_TRAILING) + ELLIPSIS) > limit:
        cut -= 1
    return text[:cut].rstrip(_TRAILING) + ELLIPSIS


# --- the story ------------------------------------------------------------------------

def story(release_text: str, *, draft_id: str, kind: str, day: date, contact: str = "") -> Story:
    """The release's plain text (headline first, 【…】 headings) as a headline and paragraphs.

    The release's own footer (来源, 发布日期 and the contact line) is left out:
    each channel prints a footer of its own.
    """
    lines = [line.strip() for line in release_text.replace("\r", "").strip("\n").split("\n")]
    headline, body = lines[0], [line for line in lines[1:] if line]
    while body and (body[-1].startswith(_FOOTER) or contact.strip() and body[-1] == contact.strip()):
        body.pop()
    paragraphs = tuple(Paragraph(line[1:-1].strip(), True) if line.startswith("【") and line.endswith("】")
                       else Paragraph(line) for line in body)
    return Story(draft_id, kind, headline, paragraphs, day)


def _context(story_: Story, settings: Settings, **extra: Any) -> dict[str, Any]:
    release = {"draft_id": story_.draft_id, "kind": story_.kind, "headline": story_.headline, "date": story_.day}
    paragraphs = [{"text": p.text, "heading": p.heading} for p in story_.paragraphs]
    return {"court": settings.court.as_context(), "release": release, "paragraphs": paragraphs, **extra}


def _fill(name: str, context: dict[str, Any]) -> str:
    """One template of ``templates/channels/`` that has no subject line, with render()'s error reporting."""
    return render_file(f"{FOLDER}/{name}", context)


# --- the versions -----------------------------------------------------------------------

def wechat(story_: Story, settings: Settings) -> ChannelFile:
    """The 公众号 article: meta (标题/作者/摘要) above the body the office copies."""
    article = {"title": shorten(story_.headline, WECHAT_TITLE_LIMIT),
               "author": shorten(settings.court.name, WECHAT_AUTHOR_LIMIT),
               "digest": shorten(story_.lead or story_.headline, WECHAT_DIGEST_LIMIT)}
    limits = {"title": WECHAT_TITLE_LIMIT, "digest": WECHAT_DIGEST_LIMIT}
    content = _fill("wechat.html", _context(story_, settings, wechat=article, limits=limits))
    return ChannelFile("wechat", "wechat.html", content, (content, _html_text(content)))


def weibo(story_: Story, settings: Settings) -> ChannelFile:
    """One post: 【headline】summary #hashtag# link, within ``weibo_limit`` as Weibo counts.

    The summary is the lead and the release's result; it is shortened with "……"
    to fit, and so is a headline longer than half the room. The hashtag and the
    link are never shortened.
    """
    channels = settings.channels

    def layout(headline: str, summary: str) -> str:
        return _fill("weibo.txt", _context(story_, settings, weibo={"headline": headline, "summary": summary},
                                          hashtag=channels.hashtag, link=channels.link)).strip()

    summary = "".join([story_.lead, *story_.section(*_OUTCOME_HEADINGS)])
    room = 2 * channels.weibo_limit - _halves(layout("", ""))        # in half-characters
    if room < 2 * 2 * _halves(ELLIPSIS):
        raise ConfigError(f"{settings.source}: [channels] hashtag 和 link 太长，在 weibo_limit = {channels.weibo_limit} "
                          "字以内放不下微博正文；请缩短它们，或调高 weibo_limit")
    headline = shorten(story_.headline, room // 2, measure=_halves) \
        if _halves(story_.headline) > room // 2 else story_.headline
    summary = shorten(summary, room - _halves(headline), measure=_halves)
    post = layout(headline, summary)
    if weibo_length(post) > channels.weibo_limit:
        raise RenderError(f"{FOLDER}/weibo.txt: 微博共 {weibo_length(post)} 字，超过 weibo_limit = "
                          f"{channels.weibo_limit}（模板中 headline 和 summary 各只能用一次）")
    return ChannelFile("weibo", "weibo.txt", post + "\n", (post,))


def website(story_: Story, settings: Settings) -> tuple[ChannelFile, ChannelFile]:
    """The CMS fragment, and beside it the item's title, summary, source and date."""
    item = {"title": story_.headline, "summary": shorten(story_.lead or story_.headline, WECHAT_DIGEST_LIMIT)}
    context = _context(story_, settings, website=item)
    fragment = _fill("website.html", context)
    fields = _fill("website.txt", context).strip("\n") + "\n"
    return (ChannelFile("website", "website.html", fragment, (fragment, _html_text(fragment))),
            ChannelFile("website", "website.txt", fields, (fields,)))


def network(story_: Story, settings: Settings, *, release_text: str, release_html: str,
            attachment: Attachment) -> Outgoing:
    """The submission email to the national network: the release as text and HTML, the .docx attached."""
    name, recipient = address(settings.channels.network_address)
    name = name or NETWORK_NAME
    rendered = render(f"{FOLDER}/network", {
        "court": settings.court.as_context(), "network": {"name": name},
        "release": {"headline": story_.headline, "kind": story_.kind, "date": story_.day},
        "release_text": release_text, "release_html": release_html})
    return Outgoing(MessageKey(NETWORK_PURPOSE, story_.draft_id), NETWORK_PURPOSE, recipient, rendered.subject,
                    rendered.text, rendered.html, (attachment,), name=name)


# How each channel the office posts by hand is written (the registry, core/model.CHANNEL_LIST, lists them).
WRITERS: dict[str, Callable[[Story, Settings], tuple[ChannelFile, ...]]] = {
    "wechat": lambda told, settings: (wechat(told, settings),),
    "weibo": lambda told, settings: (weibo(told, settings),),
    "website": website,
}


def versions(settings: Settings, *, draft_id: str, kind: str, release_text: str, release_html: str,
             day: date, attachment: Attachment) -> Versions:
    """Every switched-on channel's version of one masked release (pure: nothing written, nothing queued)."""
    switched = settings.channels
    told = story(release_text, draft_id=draft_id, kind=kind, day=day, contact=settings.court.contact)
    files: list[ChannelFile] = []
    for channel in CHANNEL_LIST:
        if channel.by_hand and getattr(switched, channel.key):
            files.extend(WRITERS[channel.key](told, settings))
    mail = (network(told, settings, release_text=release_text, release_html=release_html,
                    attachment=attachment),) if switched.network else ()
    return Versions(draft_id, tuple(files), mail)


# --- writing -----------------------------------------------------------------------------

def folder(outbox: Path, draft_id: str) -> Path:
    """Where a release's channel versions are written."""
    return Path(outbox) / FOLDER / draft_id


def save_versions(ledger: Ledger, versions_: Versions, *, outbox: Path, at: datetime) -> list[str]:
    """Write the file versions into ``outbox/channels/<draft id>/`` and record every channel's.

    Inside the caller's transaction: if a file cannot be written, nothing is
    recorded and the release stays approved for the next run. The ledger
    keeps one row per channel, naming its main file (for the website, the
    fragment; ``website.txt`` lies beside it) or, for the national network,
    the key of its queued mail (``network/<draft id>``), whose delivery says
    whether it went. Returns the channels recorded.
    """
    target = folder(outbox, versions_.draft_id)
    recorded: dict[str, str] = {}
    for file in versions_.files:
        path = target / file.name
        _write_atomic(path, file.content)
        recorded.setdefault(file.channel, str(path))
    for outgoing in versions_.mail:
        recorded.setdefault(outgoing.purpose, str(outgoing.key))
    for channel in versions_.channels:
        ledger.save_channel_version(versions_.draft_id, channel, recorded[channel], at)
    return versions_.channels


SMS_FOLDER = "sms"                   # under the outbox: sms/<name>.txt, beside channels/


def save_sms(outbox: Path, name: str, texts: Sequence[str], *, title: str) -> tuple[Path | None, str]:
    """Write text messages for the office to send by hand (``texts/sms``) to ``<outbox>/sms/<name>.txt``:
    (the file, "") or (None, why not). A file that cannot be written is said, never an error: the mail went."""
    from ..texts import sms             # with its guard: loaded when a message is written, not at start

    if not texts:
        return None, ""
    path = Path(outbox) / SMS_FOLDER / f"{name}.txt"
    try:
        write_atomic(path, sms.page(title, texts))
    except OSError as exc:
        log.warning("%s: 短信版本无法写入（%s）", path, exc.strerror)
        return None, f"短信版本无法写入 {path}（{exc.strerror}）"
    return path, ""


def write_index(ledger: Ledger, outbox: Path) -> Path | None:
    """``outbox/channels/index.html``: every release's channel versions, newest first, linked, with
    what the office has marked posted. Written again after each publish and each mark; a page
    that cannot be written is logged, never an error (the versions and the ledger are what count)."""
    releases: dict[str, dict[str, Any]] = {}
    for row in ledger.channel_versions():
        release = releases.setdefault(row["draft_id"], {"id": row["draft_id"], "headline": row["headline"],
                                                        "kind": row["kind"], "published_at": row["published_at"] or "",
                                                        "channels": []})
        path = Path(row["path"])
        files = ([path.name, "website.txt"] if row["channel"] == "website"
                 else [path.name] if row["channel"] in POSTED_BY_HAND else [])
        release["channels"].append({"label": CHANNELS.get(row["channel"], row["channel"]), "files": files,
                                    "posted": row["posted_at"] or "", "by": row["posted_by"] or "",
                                    "mailed": row["channel"] not in POSTED_BY_HAND})
    ordered = sorted(releases.values(), key=lambda r: (r["published_at"], r["id"]), reverse=True)
    target = Path(outbox) / FOLDER / "index.html"
    try:
        _write_atomic(target, render_file(f"{FOLDER}/index.html", {"releases": ordered}))
    except ChannelError as exc:
        log.warning("%s", exc)
        return None
    return target


def _write_atomic(path: Path, content: str) -> None:
    """UTF-8 with a byte-order mark and CRLF line ends, so that Notepad and the
    browsers of a Chinese-locale Windows never read the file as GBK."""
    data = ("\ufeff" + content.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise ChannelError(f"{path}: 无法写入渠道稿件（{exc.strerror}），稿件保持“已通过”，下一轮将重试") from None
