"""The court's own channels (四(三)): every published release, in the form each channel takes.

Through the public interfaces only: a real workbook pulled by ``pulling.pull``,
``publishing.draft``/``review``/``publish``, then the files left in the
outbox's ``channels/<draft id>/`` folder, the ledger's ``channel_versions``,
and what a real SMTP server on 127.0.0.1 received from the national network's
submission. Weibo's length is counted here independently of the pipeline.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import NOW, Workspace, material, run_job

from pipeline.core import config
from pipeline.flows import decisions, publishing, pulling
from pipeline.ledger import Ledger

FIRST = "D-2026-000001"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NETWORK = "tougao@zxw.court.example"            # the default config's example address
HASHTAG = "#基本解决执行难#"
LINK = "[原文链接]"
FILES = {"wechat": ("wechat.html",), "weibo": ("weibo.txt",), "website": ("website.html", "website.txt")}
MEDIA = [{"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部",
          "enabled": "是"}]

ID_CARD = "46000319850317125X"
PHONE = "13907561234"
PARTY = "李国强"
APPLICANT = "王文华"
LEAKY = material(
    kind="打击拒执", title=f"被执行人{PARTY}拒不履行 被依法司法拘留",
    facts=f"申请执行人{APPLICANT}与被执行人{PARTY}（身份证号码：{ID_CARD}）民间借贷纠纷一案，{PARTY}应偿还借款28万元。",
    process=f"执行干警通过{PARTY}预留的手机号码{PHONE}多次联系，其均拒接电话，后被依法司法拘留十五日。",
    outcome=f"{PARTY}当场履行全部款项，{APPLICANT}领取了执行款。",
    parties=f"申请执行人：{APPLICANT}；被执行人：{PARTY}")


# --- helpers --------------------------------------------------------------------------

def weibo_count(text: str) -> int:
    """Weibo's count: a full-width or CJK character 1, a half-width one ½, rounded up."""
    halves = sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)
    return (halves + 1) // 2


def folded_digits(text: str) -> str:
    return re.sub(r"[^0-9X]", "", unicodedata.normalize("NFKC", text).upper())


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def channel_folder(settings: config.Settings, draft_id: str = FIRST) -> Path:
    return settings.mail.outbox / "channels" / draft_id


def channel_rows(workspace: Workspace) -> list[dict]:
    with Ledger(workspace.ledger) as ledger:
        return [dict(r) for r in ledger.channel_versions()]


def switch(workspace: Workspace, **channels: bool) -> None:
    """Set [channels] switches in the workspace's config, as the office edits it."""
    text = workspace.config_path.read_text(encoding="utf-8")
    for name, on in channels.items():
        text, count = re.subn(rf"^{name} = (true|false)", f"{name} = {'true' if on else 'false'}", text,
                              flags=re.MULTILINE)
        assert count == 1, name
    workspace.config_path.write_text(text, encoding="utf-8")


def set_channel_value(workspace: Workspace, key: str, value: str) -> None:
    text = workspace.config_path.read_text(encoding="utf-8")
    if re.search(rf"^{key} = ", text, flags=re.MULTILINE):
        text = re.sub(rf"^{key} = .*$", lambda _: f"{key} = {value}", text, count=1, flags=re.MULTILINE)
    else:
        text = text.replace("[channels]\n", f"[channels]\n{key} = {value}\n", 1)
    workspace.config_path.write_text(text, encoding="utf-8")


def publish_one(workspace: Workspace, row: dict | None = None, media: list[dict] = MEDIA,
                dry_run: bool = False) -> publishing.PublishRun:
    """One submission pulled, drafted, approved and published."""
    workspace.make_workbook([row or material()], media=media)
    settings = workspace.settings
    run_job(settings, pulling.pull)
    assert run_job(settings, publishing.draft).drafted == [FIRST]
    run_job(settings, decisions.review, FIRST, "通过", reviewer="符贤")
    return run_job(settings, publishing.publish, dry_run=dry_run)


def wechat_meta(page: str) -> dict[str, str]:
    """标题 / 作者 / 摘要 as the page shows them above the article."""
    words = html.unescape(re.sub(r"<[^>]+>", "", page))
    return {label: re.search(rf"^{label}(?:（\d+/\d+ 字）)?：(.*)$", words, flags=re.MULTILINE).group(1)
            for label in ("标题", "作者", "摘要")}


def wechat_body(page: str) -> str:
    start, end = page.index("<!-- 正文开始 -->"), page.index("<!-- 正文结束 -->")
    return page[start:end]


def docx_words(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    return "".join(html.unescape(t) for t in re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml))


def network_mail(handler) -> list[EmailMessage]:
    return [m.parse() for m in handler.messages if NETWORK in m.rcpt_tos]


def readable(message: EmailMessage) -> list[str]:
    """Every place of a message a reader sees: headers, both bodies, every attachment's name and words."""
    places = [str(message["Subject"]), str(message["To"]), message.get_body(("plain",)).get_content(),
              html.unescape(re.sub(r"<[^>]+>", "", message.get_body(("html",)).get_content()))]
    for part in message.iter_attachments():
        places += [part.get_filename() or "", docx_words(part.get_content())]
    return places


# --- the demo: every channel of every release -------------------------------------------

@dataclass
class Demo:
    workspace: Workspace
    settings: config.Settings
    published: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """init --demo, then pull, draft, approve every draft and publish (to the outbox), once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", NOW)
        root = tmp_path_factory.mktemp("channels-demo")
        workspace = Workspace.create(root)
        settings = workspace.settings
        workspace.cli("init", "--demo", check=True)
        run_job(settings, pulling.pull)
        for draft_id in run_job(settings, publishing.draft).drafted:
            run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")
        run = run_job(settings, publishing.publish)
    assert len(run.published) >= 10 and run.blocked == []
    return Demo(workspace, settings, run.published)


def test_every_demo_release_gets_every_channels_files(demo: Demo) -> None:
    for draft_id in demo.published:
        folder = channel_folder(demo.settings, draft_id)
        assert sorted(p.name for p in folder.iterdir()) == sorted(n for names in FILES.values() for n in names)


def test_every_demo_weibo_post_fits_the_limit_with_the_hashtag_and_the_link(demo: Demo) -> None:
    limit = demo.settings.channels.weibo_limit
    for draft_id in demo.published:
        post = read(channel_folder(demo.settings, draft_id) / "weibo.txt").strip()
        assert "\n" not in post
        assert weibo_count(post) <= limit, (draft_id, weibo_count(post), post)
        assert post.startswith("【") and "】" in post
        assert post.endswith(f" {HASHTAG} {LINK}"), post


def test_every_demo_wechat_article_keeps_the_title_and_digest_limits(demo: Demo) -> None:
    with Ledger(demo.workspace.ledger) as ledger:
        headlines = {d: ledger.draft(d)["headline"] for d in demo.published}
    for draft_id in demo.published:
        meta = wechat_meta(read(channel_folder(demo.settings, draft_id) / "wechat.html"))
        assert 0 < len(meta["标题"]) <= 64 and 0 < len(meta["摘要"]) <= 120
        assert meta["标题"] == headlines[draft_id][:64] or meta["标题"].endswith("……")
        assert meta["作者"] == demo.settings.court.name


def test_every_demo_website_item_names_its_title_summary_source_and_date(demo: Demo) -> None:
    for draft_id in demo.published:
        fields = dict(line.split("：", 1) for line in read(channel_folder(demo.settings, draft_id) / "website.txt")
                      .splitlines() if "：" in line)
        assert fields["标题"] and fields["摘要"]
        assert fields["来源"] == demo.settings.court.name
        assert fields["日期"] == "2026年11月26日"


def test_no_demo_channel_version_carries_the_demos_id_number_or_phone(demo: Demo) -> None:
    for draft_id in demo.published:
        for path in channel_folder(demo.settings, draft_id).iterdir():
            digits = folded_digits(read(path))
            assert ID_CARD not in digits and PHONE not in digits, path


# --- length limits on a long release ----------------------------------------------------------

LONG = material(
    title=("被执行人长期拒不履行生效判决确定的给付义务且多次转移隐匿财产 "
           "法院依法采取拘留罚款并移送公安机关追究其拒不执行判决裁定罪的刑事责任 申请执行人权益终获兑现"),
    facts="申请执行人王某华与被执行人李某强买卖合同纠纷一案，" + "判决生效后李某强一直未履行，并多次转移财产。" * 8,
    outcome="李某强最终履行全部款项，案件执行完毕。" * 3)


def test_a_long_headline_and_lead_are_shortened_but_never_the_hashtag_or_the_link(workspace) -> None:
    set_channel_value(workspace, "weibo_limit", "80")

    publish_one(workspace, LONG)

    post = read(channel_folder(workspace.settings) / "weibo.txt").strip()
    assert weibo_count(post) <= 80
    assert post.endswith(f" {HASHTAG} {LINK}")
    headline = re.match(r"【(.*?)】", post).group(1)
    assert headline.endswith("……") and headline[:-2] in LONG["title"]
    assert "……" in post.removeprefix(f"【{headline}】")
    meta = wechat_meta(read(channel_folder(workspace.settings) / "wechat.html"))
    assert len(meta["标题"]) <= 64 and meta["标题"].endswith("……")
    assert len(meta["摘要"]) <= 120


def test_shortening_a_text_as_long_as_a_whole_row_measures_it_a_few_times_not_once_per_character() -> None:
    """A release's outcome may run to the row limit (20,000 characters): cutting it to a post's room
    must not measure every one of its prefixes (that took minutes)."""
    from pipeline.flows.channels import shorten

    text = "李某强最终履行全部款项，案件执行完毕。" * 1_000                      # 19,000 characters
    measured = []

    def counting(part: str) -> int:
        measured.append(len(part))
        return len(part)

    short = shorten(text, 140, measure=counting)

    assert len(short) <= 140 and short.endswith("……") and text.startswith(short[:-2])
    assert sum(measured) < 2 * len(text) + 140 * 140


def test_half_width_characters_count_half_and_the_link_counts_as_written(workspace) -> None:
    link = "https://www.dzcourt.example/news/2026/1126.html"     # 47 half-width characters: 24 as Weibo counts
    set_channel_value(workspace, "link", f'"{link}"')

    publish_one(workspace, LONG)

    post = read(channel_folder(workspace.settings) / "weibo.txt").strip()
    assert post.endswith(f" {HASHTAG} {link}")
    limit = workspace.settings.channels.weibo_limit
    # Filled to the limit as Weibo counts, which a count of every character as 1 would overshoot.
    assert limit - 1 <= weibo_count(post) <= limit
    assert len(post) > limit


# --- what each channel's form allows ------------------------------------------------------------

def test_the_wechat_article_uses_inline_styles_only(workspace) -> None:
    publish_one(workspace)

    page = read(channel_folder(workspace.settings) / "wechat.html")
    assert not re.search(r"<style|<script|<link|\sclass\s*=|javascript:", page, flags=re.IGNORECASE)
    body = wechat_body(page)
    assert set(re.findall(r"<([a-z][a-z0-9]*)", body)) <= {"section", "p", "span", "strong"}
    assert "执行干警查控其名下车辆并依法扣押" in body
    assert "来源：儋州市人民法院" in body
    assert all('style="' in tag for tag in re.findall(r"<(?:section|p)\b[^>]*>", body))


def test_the_website_version_is_a_fragment_with_its_fields_beside_it(workspace) -> None:
    publish_one(workspace)

    folder = channel_folder(workspace.settings)
    fragment = read(folder / "website.html")
    assert not re.search(r"<(html|head|body|!doctype)\b", fragment, flags=re.IGNORECASE)
    assert fragment.lstrip().startswith("<p") and "执行干警查控其名下车辆并依法扣押" in fragment
    fields = read(folder / "website.txt").splitlines()
    assert [line.split("：")[0] for line in fields[:4]] == ["标题", "摘要", "来源", "日期"]
    assert fields[0] == "标题：拖欠货款三年 被执行人主动履行28万元"


# --- masking and the guard ------------------------------------------------------------------------

def test_no_channel_version_or_network_mail_carries_an_unmasked_identifier(workspace, smtp_server) -> None:
    smtp_server.configure(workspace)

    run = publish_one(workspace, LEAKY)

    assert run.published == [FIRST] and run.blocked == []
    paths = sorted(channel_folder(workspace.settings).iterdir())
    assert [p.name for p in paths] == ["website.html", "website.txt", "wechat.html", "weibo.txt"]
    [mail] = network_mail(smtp_server.handler)
    places = [(p.name, read(p)) for p in paths] + [("network", text) for text in readable(mail)]
    for where, text in places:
        assert ID_CARD not in folded_digits(text), where
        assert PHONE not in folded_digits(text), where
        assert PARTY not in text and APPLICANT not in text, where
    assert "李某" in read(channel_folder(workspace.settings) / "weibo.txt")


def test_a_channel_that_would_carry_an_identifier_blocks_the_whole_release(workspace) -> None:
    set_channel_value(workspace, "link", f'"详询{PHONE}"')      # the Weibo post alone would carry it

    run = publish_one(workspace)

    assert run.published == [] and [d for d, _ in run.blocked] == [FIRST]
    assert "微博" in run.blocked[0][1] and "手机号" in run.blocked[0][1]
    assert PHONE not in run.blocked[0][1]
    assert not channel_folder(workspace.settings).exists()
    assert channel_rows(workspace) == []
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft(FIRST)["state"] == "blocked"
        assert ledger.deliveries("release/") == [] and ledger.deliveries("network/") == []
        assert [a["state"] for a in ledger.deliveries("blocked/")] == ["sent"]


# --- switches --------------------------------------------------------------------------------------

@pytest.mark.parametrize("channel", ["wechat", "weibo", "website"])
def test_a_channel_switched_off_produces_no_file_and_no_ledger_row(workspace, channel) -> None:
    switch(workspace, **{channel: False})

    run = publish_one(workspace)

    assert run.published == [FIRST]
    names = {p.name for p in channel_folder(workspace.settings).iterdir()}
    expected = {n for c, files in FILES.items() if c != channel for n in files}
    assert names == expected
    assert {r["channel"] for r in channel_rows(workspace)} == {*FILES, "network"} - {channel}
    assert (FIRST, channel) not in run.channels


def test_every_channel_switched_off_leaves_no_folder_no_row_and_no_mail(workspace) -> None:
    switch(workspace, wechat=False, weibo=False, website=False, network=False)

    run = publish_one(workspace)

    assert run.published == [FIRST] and run.channels == []
    assert not (workspace.settings.mail.outbox / "channels").exists()
    assert channel_rows(workspace) == []
    assert list(workspace.settings.mail.outbox.glob("*-release-*.eml"))
    assert not list(workspace.settings.mail.outbox.glob("*-network-*.eml"))


# --- the national network's submission ---------------------------------------------------------------

def test_the_network_submission_goes_once_with_the_releases_docx(workspace, smtp_server) -> None:
    smtp_server.configure(workspace)
    publish_one(workspace)

    again = run_job(workspace.settings, publishing.publish)

    assert again.published == []
    [mail] = network_mail(smtp_server.handler)
    assert smtp_server.handler.recipients().count(NETWORK) == 1
    assert [a.addr_spec for a in mail["To"].addresses] == [NETWORK]
    assert "拖欠货款三年 被执行人主动履行28万元" in str(mail["Subject"])
    assert "信息网编辑部" in mail.get_body(("plain",)).get_content()
    [part] = list(mail.iter_attachments())
    assert part.get_content_type() == DOCX_TYPE and part.get_filename().endswith(".docx")
    assert "拖欠货款三年" in docx_words(part.get_content())
    with Ledger(workspace.ledger) as ledger:
        assert [(d["recipient"], d["state"]) for d in ledger.deliveries(f"network/{FIRST}")] == [(NETWORK, "sent")]


def test_the_network_submission_is_not_sent_when_switched_off(workspace, smtp_server) -> None:
    smtp_server.configure(workspace)
    switch(workspace, network=False)

    run = publish_one(workspace)

    assert run.published == [FIRST]
    assert network_mail(smtp_server.handler) == []
    assert NETWORK not in smtp_server.handler.rcpt_attempts
    assert "fazhi@media.example" in smtp_server.handler.recipients()
    assert (FIRST, "network") not in run.channels
    assert sorted(r["channel"] for r in channel_rows(workspace)) == ["website", "wechat", "weibo"]


# --- the ledger, re-runs, dry runs -------------------------------------------------------------------

def test_the_ledger_records_one_row_per_produced_channel_naming_its_file_or_mail(workspace) -> None:
    run = publish_one(workspace)

    rows = {r["channel"]: r for r in channel_rows(workspace)}
    assert sorted(rows) == ["network", "website", "wechat", "weibo"]
    assert sorted(run.channels) == sorted((FIRST, c) for c in rows)
    assert all(r["draft_id"] == FIRST and r["posted_at"] is None for r in rows.values())
    for channel, (main, *_) in FILES.items():
        path = Path(rows[channel]["path"])
        assert path.name == main and path.is_file()
    assert rows["network"]["path"] == f"network/{FIRST}"
    with Ledger(workspace.ledger) as ledger:
        assert [d["recipient"] for d in ledger.deliveries(rows["network"]["path"])] == [NETWORK]


def test_a_second_publish_writes_and_records_nothing_more(workspace) -> None:
    publish_one(workspace)
    folder = channel_folder(workspace.settings)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    rows = channel_rows(workspace)

    again = run_job(workspace.settings, publishing.publish)

    assert again.published == [] and again.channels == []
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before      # no temp files left either
    assert channel_rows(workspace) == rows


def test_a_dry_run_writes_nothing_but_previews_the_network_submission(workspace) -> None:
    run = publish_one(workspace, dry_run=True)

    assert run.published == [FIRST]
    assert not (workspace.settings.mail.outbox / "channels").exists()
    assert channel_rows(workspace) == []
    assert [p.recipient for p in run.previews if p.purpose == "network"] == [NETWORK]
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft(FIRST)["state"] == "approved"


def test_an_index_page_links_every_releases_versions_and_shows_what_was_posted(workspace) -> None:
    run = publish_one(workspace)
    outbox = workspace.settings.mail.outbox

    first = (outbox / "channels" / "index.html").read_text(encoding="utf-8-sig")
    for name in ("wechat.html", "weibo.txt", "website.html", "website.txt"):
        assert f'href="{FIRST}/{name}"' in first and (outbox / "channels" / FIRST / name).exists()
    assert "信息网：由系统邮寄" in first and "已发（" not in first
    assert 'href="channels/index.html"' in (outbox / "index.html").read_text(encoding="utf-8")

    assert workspace.cli("posted", FIRST, "--channel", "微信", "--by", "何雪").returncode == 0

    again = (outbox / "channels" / "index.html").read_text(encoding="utf-8-sig")
    assert "已发（何雪" in again and again.count("待发布") == first.count("待发布") - 1
    assert run.published == [FIRST]


def test_every_channel_of_the_registry_has_its_switch_its_writer_and_its_files(workspace) -> None:
    """The registry (core/model.CHANNEL_LIST) is the one list: the config's switches, the writers, the files."""
    from pipeline.core.config import ChannelSettings
    from pipeline.core.model import CHANNEL_LIST
    from pipeline.core.normalize import channel as parse_channel
    from pipeline.flows.channels import WRITERS, story
    settings = workspace.settings
    told = story("标题\n正文第一段。\n", draft_id="D-2026-000001", kind="执行成功", day=date(2026, 11, 26))
    for channel in CHANNEL_LIST:
        assert isinstance(getattr(ChannelSettings(), channel.key), bool)
        if channel.by_hand:
            assert tuple(f.name for f in WRITERS[channel.key](told, settings)) == channel.files
            assert all(parse_channel(alias) == channel.key for alias in channel.aliases)
    assert set(WRITERS) == {c.key for c in CHANNEL_LIST if c.by_hand}
