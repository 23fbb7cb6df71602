"""The templates: every release kind renders, errors name template and line, the sandbox holds,
sheet text is escaped in HTML, the filters, and the draft and media emails.

Releases are rendered through ``publishing.compose`` (masking + the release
templates); the emails through the jobs on a real workbook, read back from
the outbox with the standard ``email`` package.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import NOW, Workspace, material, run_job
from markupsafe import escape

from pipeline.app import demo_data
from pipeline.core import config, normalize
from pipeline.core.model import KINDS
from pipeline.flows import decisions, publishing, pulling
from pipeline.texts.compose import public_texts
from pipeline.texts.render import (
    DATE_TOKEN,
    TEMPLATES,
    RenderError,
    cn_amount,
    cn_date,
    fill_date,
    render,
    render_each,
    render_file,
)

DAY = date(2026, 11, 28)
COURT = "儋州市人民法院"
FIELDS = ("team", "submitter", "kind", "case_number", "title", "facts", "process", "outcome", "parties",
          "publishable")


# --- helpers -----------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TagChecker(HTMLParser):
    """Every element that is opened is closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]
        else:
            self.stack.pop()


def assert_well_formed(markup: str) -> None:
    assert markup.lstrip().startswith("<"), markup[:80]
    checker = _TagChecker()
    checker.feed(markup)
    checker.close()
    assert checker.errors == [], checker.errors
    assert checker.stack == [], f"left open: {checker.stack}"


def words(markup: str) -> str:
    """What a reader sees in HTML: tags dropped, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", "", markup))


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def fields_of(row: dict) -> dict[str, str]:
    return {k: v for k, v in row.items() if k in FIELDS and isinstance(v, str)}


def compose(fields: dict[str, str], settings: config.Settings, kind: str | None = None) -> publishing.Release:
    kind = kind or fields["kind"]
    return publishing.compose(fields, kind=kind, draft_id="D-2026-000001", settings=settings)


def masked_texts(fields: dict[str, str], kind: str, settings: config.Settings) -> dict[str, str]:
    """The row's public fields as the release may print them (names by law, identifiers out, notes out)."""
    return public_texts(fields, kind=kind, settings=settings)[0]


def parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def docx_text(message: EmailMessage) -> str:
    (attachment,) = [a for a in message.iter_attachments() if (a.get_filename() or "").endswith(".docx")]
    with zipfile.ZipFile(io.BytesIO(attachment.get_payload(decode=True))) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    return "".join(unescape(t) for t in re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml))


@pytest.fixture
def settings(workspace: Workspace) -> config.Settings:
    return workspace.settings


# --- every release template on every demo submission ---------------------------------------

SYNTHETIC = {
    "巡查督导": material(kind="巡查督导", case_number="", parties="",
                        title="人大代表视察执行工作 为执行攻坚建言献策",
                        facts="11月24日，五名市人大代表、政协委员到本院视察执行工作。",
                        process="代表委员察看了执行指挥中心，听取了执行工作汇报，并现场见证一起腾房执行。",
                        outcome="代表委员对执行工作给予肯定，并提出三条意见建议。"),
    "第三方评估": material(kind="第三方评估", case_number="", parties="",
                         title="第三方评估组到院开展执行工作评估",
                         facts="第三方评估机构对本院“基本解决执行难”工作开展实地评估。",
                         process="评估组随机抽查执行卷宗120卷，旁听执行听证一次，并走访当事人。",
                         outcome="本院各项核心指标均达到评估标准。"),
    "执行联动": material(kind="执行联动", title="法院联合公安查控被执行人车辆 促成案件执结",
                       facts="申请执行人王文华与被执行人李国强民间借贷纠纷一案，李国强拒不履行。",
                       process="本院通过执行联动机制商请公安交警部门协助查控李国强名下车辆。",
                       outcome="李国强主动履行全部款项。",
                       parties="申请执行人：王文华；被执行人：李国强"),
    "动员部署": material(kind="动员部署", case_number="", parties="",
                       title="召开决胜“基本解决执行难”宣传工作动员部署会",
                       facts="11月2日，本院召开执行宣传工作动员部署会，全体执行干警参加。",
                       process="会议传达了《“基本解决执行难”宣传工作方案》，对各执行团队的报送任务作出安排。",
                       outcome="会议要求各部门每周报送素材不少于3条。"),
    "三反专项": material(kind="三反专项", title="隐匿财产逃避执行 被执行人李国强被司法拘留",
                       facts="申请执行人王文华与被执行人李国强民间借贷纠纷一案，李国强判决生效后转移财产。",
                       process="本院在“三反”专项行动中查明李国强隐匿车辆，依法对其司法拘留十五日。",
                       outcome="李国强家属代为履行12万元。", amount="12万元", closure="部分履行",
                       parties="申请执行人：王文华；被执行人：李国强"),
    "代表委员看执行": material(kind="代表委员看执行", case_number="", parties="",
                         title="市人大代表、政协委员见证涉民生案件集中执行",
                         facts="11月18日，本院邀请4名市人大代表、政协委员参与涉民生案件集中执行。",
                         process="代表委员随执行干警到那大镇见证腾房执行，并旁听执行听证。",
                         outcome="代表委员对执行工作给予肯定。"),
}


def _release_cases() -> list:
    cases, covered = [], set()
    for number, row in enumerate(demo_data.SUBMISSIONS, start=1):
        kind = normalize.kind(row["kind"])
        covered.add(kind)
        cases.append(pytest.param(kind, {**fields_of(row), "kind": kind}, id=f"demo{number:02d}-{kind}"))
    for kind in KINDS:
        if kind not in covered:
            cases.append(pytest.param(kind, fields_of(SYNTHETIC[kind]), id=f"synthetic-{kind}"))
    return cases


RELEASE_CASES = _release_cases()


def test_every_kind_has_a_release_template_and_a_case_here() -> None:
    """One template per kind: its HTML is made from the same paragraphs (releases/_page.html)."""
    for kind in KINDS:
        assert (TEMPLATES / "releases" / f"{kind}.txt").is_file(), kind
    assert {case.values[0] for case in RELEASE_CASES} == set(KINDS)


@pytest.mark.parametrize("kind, fields", RELEASE_CASES)
def test_every_release_template_renders_every_submission_of_its_kind(
        settings: config.Settings, kind: str, fields: dict[str, str]) -> None:
    release = compose(fields, settings, kind)
    masked = masked_texts(fields, kind, settings)

    headline = release.headline
    assert headline.strip() and "\n" not in headline
    assert headline == masked["title"].strip()
    assert release.text.startswith(headline + "\n")
    assert f"来源：{COURT}" in release.text
    # The date stands as a token until the release is approved; filled, it reads as a date.
    assert f"发布日期：{DATE_TOKEN}" in release.text
    assert "发布日期：2026年11月28日" in fill_date(release.text, DAY)
    assert settings.court.contact in release.text
    for leftover in ("{{", "}}", "{%", "%}", "{#", "None", "Undefined"):
        assert leftover not in release.text and leftover not in release.html, leftover
    # The material itself is there, masked, in both forms.
    for key in ("facts", "process", "outcome"):
        for line in masked[key].split("\n"):
            if line.strip():
                assert line.strip() in release.text, key
                assert line.strip() in words(release.html), key

    assert_well_formed(release.html)
    assert str(escape(headline)) in release.html
    assert re.search(r"<h1[^>]*>" + re.escape(str(escape(headline))) + "</h1>", release.html)
    assert f"来源：{COURT}" in words(release.html)
    assert f"发布日期：{DATE_TOKEN}" in words(release.html)
    assert "发布日期：2026年11月28日" in words(fill_date(release.html, DAY))
    assert re.search(r"<p[^>]*>\s*</p>", release.html) is None, "an empty paragraph"
    assert release.content_hash and len(release.content_hash) == 64


def test_the_inability_release_explains_the_concept_and_tells_it_from_difficulty(settings) -> None:
    row = next(r for r in demo_data.SUBMISSIONS if normalize.kind(r["kind"]) == "执行不能")
    release = compose({**fields_of(row), "kind": "执行不能"}, settings)
    for text in (release.text, words(release.html)):
        assert "终结本次执行" in text
        assert "执行难" in text and "执行不能" in text
        assert "“执行不能”不同于“执行难”" in text
        assert "区分“执行难”与“执行不能”" in text
        assert "恢复执行" in text
        # The usual kinds of inability are listed.
        for kind in ("确无财产可供执行", "下落不明", "吊销营业执照", "无法处置", "丧失劳动能力"):
            assert kind in text


def test_the_refusal_release_cites_the_crime_the_article_and_detention(settings) -> None:
    row = next(r for r in demo_data.SUBMISSIONS if normalize.kind(r["kind"]) == "打击拒执")
    release = compose({**fields_of(row), "kind": "打击拒执"}, settings)
    for text in (release.text, words(release.html)):
        assert "拒不执行判决、裁定罪" in text
        assert "第三百一十三条" in text
        assert "《中华人民共和国刑法》" in text
        assert "拘留" in text and "十五日以下" in text
        assert "三年以下有期徒刑" in text


@pytest.mark.parametrize("blank", ["", "   ", "\n"], ids=["empty", "spaces", "newline"])
@pytest.mark.parametrize("kind", KINDS)
def test_blank_optional_fields_leave_no_empty_label_lines(settings, kind: str, blank: str) -> None:
    fields = fields_of(material(kind=kind, case_number=blank, parties=blank, outcome=blank))
    release = compose(fields, settings, kind)

    assert re.search(r"(?m)^\s*(案号|当事人)[：:]\s*$", release.text) is None
    assert re.search(r"(?m)^[^\n]{0,12}[：:]\s*$", release.text) is None, "a label with nothing after it"
    assert "案号" not in release.text and "当事人：" not in release.text
    paras = paragraphs(release.text)
    for number, para in enumerate(paras):
        if re.fullmatch(r"【[^】]*】", para):
            following = paras[number + 1] if number + 1 < len(paras) else ""
            assert following and not following.startswith(("【", "来源：")), f"{para} heads nothing"
    assert "【执行结果】" not in release.text and "【工作成效】" not in release.text
    assert "【评估结果】" not in release.text
    assert "案件案件" not in release.text and "办理案件过程中" not in release.text

    assert_well_formed(release.html)
    assert "案号" not in words(release.html)
    assert re.search(r"<p[^>]*>\s*</p>", release.html) is None
    assert re.search(r"<p[^>]*>[^<]{0,12}[：:]\s*</p>", release.html) is None


def test_a_case_number_and_parties_given_are_shown_with_their_labels(settings) -> None:
    release = compose(fields_of(material(parties="王文华、李国强")), settings)
    assert "案号：（2026）琼9003执1234号" in release.text
    assert "当事人：王某、李某" in release.text
    assert "【执行结果】" in release.text


# --- errors name the template, the line and the name ---------------------------------------

def write(folder: Path, name: str, text: str, markup: str = "<p>正文</p>\n") -> None:
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / f"{name}.html").write_text(markup, encoding="utf-8")


def test_an_undefined_variable_names_the_template_the_line_and_the_variable(tmp_path: Path) -> None:
    write(tmp_path, "notice", "主题\n第二行\n{{ missing_name }}\n")
    with pytest.raises(RenderError) as caught:
        render("notice", {}, folder=tmp_path)
    message = str(caught.value)
    assert "notice.txt:3" in message
    assert "missing_name" in message


def test_an_undefined_attribute_names_the_attribute(tmp_path: Path) -> None:
    write(tmp_path, "notice", "主题\n{{ release.headline }}\n{{ release.nope }}\n")
    with pytest.raises(RenderError, match=r"notice\.txt:3: .*nope"):
        render("notice", {"release": {"headline": "标题"}}, folder=tmp_path)


def test_an_undefined_variable_in_a_condition_is_an_error_not_a_blank(tmp_path: Path) -> None:
    write(tmp_path, "notice", "主题\n\n{% if flag %}有{% endif %}\n")
    with pytest.raises(RenderError, match=r"notice\.txt:3: 'flag' is undefined"):
        render("notice", {}, folder=tmp_path)


def test_an_undefined_variable_in_the_html_template_names_the_html_file(tmp_path: Path) -> None:
    write(tmp_path, "notice", "主题\n正文\n", "<div>\n<p>{{ gone }}</p>\n</div>\n")
    with pytest.raises(RenderError, match=r"notice\.html:2: 'gone' is undefined"):
        render("notice", {}, folder=tmp_path)


def test_an_undefined_variable_in_a_child_block_names_the_child_and_its_line(tmp_path: Path) -> None:
    write(tmp_path, "base", "主题\n{% block body %}{% endblock %}\n", "<p>{% block body %}{% endblock %}</p>\n")
    write(tmp_path, "child", '{% extends "base.txt" %}\n{# 说明 #}\n{% block body %}\n第四行\n{{ child_missing }}\n'
                             '{% endblock %}\n', '{% extends "base.html" %}{% block body %}x{% endblock %}\n')
    with pytest.raises(RenderError, match=r"child\.txt:5: 'child_missing' is undefined"):
        render("child", {}, folder=tmp_path)


def test_an_undefined_variable_in_the_base_template_names_the_base_and_its_line(tmp_path: Path) -> None:
    """Every release extends releases/_base: a typo there must point there, not at the child."""
    write(tmp_path, "base", "主题\n{% block body %}{% endblock %}\n尾注：{{ footer_missing }}\n",
          "<p>{% block body %}{% endblock %}</p>\n")
    write(tmp_path, "child", '{% extends "base.txt" %}\n{% block body %}正文{% endblock %}\n',
          '{% extends "base.html" %}\n{% block body %}正文{% endblock %}\n')
    with pytest.raises(RenderError) as caught:
        render("child", {}, folder=tmp_path)
    message = str(caught.value)
    assert "footer_missing" in message
    assert "base.txt:3" in message, message


def test_a_real_release_template_missing_a_variable_fails_loudly(settings) -> None:
    release = {"kind": "执行成功", "headline": "标题", "unit": "儋州市人民法院执行局", "case_number": "",
               "case_noun": "", "enforcement": False, "criminal": False, "parties": "", "facts": "案情",
               "process": "过程", "outcome": "", "closure": "", "amount": "", "inability": "", "date": DAY,
               "draft_id": "D-2026-000001"}
    with pytest.raises(RenderError, match=r"releases/执行成功\.txt:\d+: 'court' is undefined"):
        render_file("releases/执行成功.txt", {"release": release})


@pytest.mark.parametrize("text, line", [
    ("主题\n第二行\n{{ x + }}\n", 3),
    ("主题\n{% if x %}\n没有结束\n", 3),
    ("主题\n{% for a in b %}\n{{ a }}\n{% endif %}\n", 4),
    ("主题\n{{ x | no_such_filter }}\n", 2),
], ids=["bad expression", "unclosed if", "mismatched end", "unknown filter"])
def test_a_syntax_error_names_the_file_and_the_line(tmp_path: Path, text: str, line: int) -> None:
    write(tmp_path, "broken", text)
    with pytest.raises(RenderError) as caught:
        render("broken", {"x": 1, "b": []}, folder=tmp_path)
    assert re.search(rf"broken\.txt:{line}:", str(caught.value)), str(caught.value)


def test_a_missing_template_is_a_render_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"nowhere\.txt: 找不到模板文件"):
        render("nowhere", {}, folder=tmp_path)


class Secretive:
    calls: list[str] = []

    def _private(self) -> str:
        Secretive.calls.append("_private")
        return "私有数据"

    def __repr__(self) -> str:
        return "Secretive()"


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "''.__class__.__mro__[1].__subclasses__()",
    "obj._private()",
    "obj.__class__",
    "cycler.__init__.__globals__",
    "'{0.__class__}'.format(obj)",
    "obj.__dict__",
], ids=["mro", "subclasses", "private method", "dunder class", "globals", "format", "dict"])
def test_the_sandbox_refuses_python_internals(tmp_path: Path, expression: str) -> None:
    Secretive.calls.clear()
    write(tmp_path, "evil", f"主题\n{{{{ {expression} }}}}\n")
    with pytest.raises(RenderError) as caught:
        render("evil", {"obj": Secretive()}, folder=tmp_path)
    assert "evil.txt:2" in str(caught.value)
    assert Secretive.calls == [], "the private method ran"


# --- HTML from the sheet is escaped ----------------------------------------------------------

SCRIPT_TITLE = "<script>alert(1)</script>被执行人主动履行"
BOLD_FACTS = "申请执行人王某华与被执行人李某强纠纷一案，<b>李某强</b>拒不履行 & 逃避执行。"


def test_sheet_html_is_escaped_in_the_release_html_and_kept_in_its_text(settings) -> None:
    release = compose(fields_of(material(title=SCRIPT_TITLE, facts=BOLD_FACTS)), settings)
    assert "<script" not in release.html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in release.html
    assert "&lt;b&gt;李某强&lt;/b&gt;" in release.html and "<b>李某强" not in release.html
    assert "&amp; 逃避执行" in release.html
    assert_well_formed(release.html)
    assert release.text.startswith(SCRIPT_TITLE + "\n")
    assert "<b>李某强</b>拒不履行 & 逃避执行" in release.text


# --- the draft and media emails, through the jobs ---------------------------------------------

MEDIA = [
    {"outlet": "《法制时报》", "contact": "郑丽华", "email": "news@fzsb.example", "kinds": "全部", "enabled": "是"},
    {"outlet": "儋州广播电台", "contact": "羊丽萍", "email": "radio@dzradio.example", "kinds": "执行不能",
     "enabled": "是"},
    {"outlet": "儋州<i>电视台</i>", "contact": "", "email": "tv@dztv.example", "kinds": "全部", "enabled": "是"},
]


@dataclass
class Mailed:
    workspace: Workspace
    drafts: dict[str, str]                       # title → draft id
    mail: dict[str, EmailMessage]                # outbox file name → message

    def find(self, purpose: str, draft_id: str, recipient: str = "") -> list[EmailMessage]:
        return [m for name, m in self.mail.items()
                if f"-{purpose}-{draft_id}-" in name and name.endswith(f"{recipient}.eml")]


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> Mailed:
    """Three submissions drafted, approved and published through the outbox."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", NOW)
        root = tmp_path_factory.mktemp("mailed")
        workspace = Workspace.create(root)
        rows = [
            material(),
            material(title=SCRIPT_TITLE, facts=BOLD_FACTS, case_number="（2026）琼9003执1235号", submitter="陈小燕"),
            material(kind="执行成功", title="被执行人李国强主动履行28万元", case_number="（2026）琼9003执1236号",
                     facts="申请执行人王文华与被执行人李国强借款纠纷一案，执行干警拨打李国强手机13907561234未接。",
                     process="执行干警依法查控李国强名下车辆。", parties="申请执行人：王文华；被执行人：李国强"),
        ]
        workspace.make_workbook(rows, media=MEDIA)
        settings = workspace.settings
        run_job(settings, pulling.pull)
        drafted = run_job(settings, publishing.draft).drafted
        for draft_id in drafted:
            run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")
        run_job(settings, publishing.publish)
    titles = [r["title"] for r in rows]
    folder = settings.mail.outbox
    mail = {p.name: parse(p.read_bytes()) for p in sorted(folder.glob("*.eml"))}
    return Mailed(workspace, dict(zip(titles, drafted)), mail)


def test_the_draft_email_names_the_draft_and_says_how_to_approve_it(mailed: Mailed) -> None:
    title = material()["title"]
    draft_id = mailed.drafts[title]
    (message,) = mailed.find("draft", draft_id, "office@court.example")
    assert str(message["Subject"]) == f"【待审稿件 {draft_id}】{title}"
    assert message["To"].addresses[0].addr_spec == "office@court.example"
    text, markup = plain(message), html_of(message)
    for body in (text, words(markup)):
        assert f"python run.py approve {draft_id}" in body
        assert f"python run.py reject {draft_id}" in body
        assert "“审核”页" in body
        assert draft_id in body
        # The release itself, as the media would get it.
        assert title in body and f"来源：{COURT}" in body
    # The source row.
    assert "素材编号：S-2026-" in text
    assert "报送部门：执行一组" in text
    assert "提交人：李明辉" in text
    assert "类别：执行成功" in text
    assert "案号：（2026）琼9003执1234号" in text
    assert f"标题：{title}" in text
    for label, value in (("报送部门", "执行一组"), ("提交人", "李明辉"), ("类别", "执行成功"),
                         ("案号", "（2026）琼9003执1234号"), ("标题", title)):
        assert re.search(rf"<td[^>]*>{label}</td><td>{re.escape(value)}</td>", markup), label
    assert_well_formed(markup)


def test_the_draft_email_says_what_was_masked(mailed: Mailed) -> None:
    draft_id = mailed.drafts["被执行人李国强主动履行28万元"]
    (message,) = mailed.find("draft", draft_id)
    assert str(message["Subject"]) == f"【待审稿件 {draft_id}】被执行人李某主动履行28万元"
    for body in (plain(message), words(html_of(message))):
        assert "已自动遮蔽的个人信息" in body and "手机号 1 处" in body and "姓名" in body
        assert "13907561234" not in body
        assert "139****1234" not in body and "李某手机×××未接" in body


def test_the_media_email_greets_the_outlet_by_name(mailed: Mailed) -> None:
    title = material()["title"]
    draft_id = mailed.drafts[title]
    (message,) = mailed.find("release", draft_id, "news@fzsb.example")
    assert str(message["Subject"]) == f"{COURT}新闻通稿：{title}"
    assert "《法制时报》" in message["To"].addresses[0].display_name
    assert plain(message).startswith("《法制时报》编辑部郑丽华：您好！")
    assert "《法制时报》编辑部郑丽华：您好！" in words(html_of(message))
    assert f"《{title}》" in plain(message)
    assert_well_formed(html_of(message))
    assert title in docx_text(message)
    # Only contacts who take the kind get it.
    assert mailed.find("release", draft_id, "radio@dzradio.example") == []


def test_each_outlet_is_greeted_by_its_own_name(mailed: Mailed) -> None:
    """One release, several outlets: each message greets its own outlet, never another's."""
    greetings = {}
    for name, message in mailed.mail.items():
        if "-release-" not in name:
            continue
        recipient = message["To"].addresses[0].addr_spec
        greetings[(name.split("-release-")[1][:13], recipient)] = plain(message).partition("\n")[0]
    assert greetings
    expected = {"news@fzsb.example": "《法制时报》编辑部郑丽华：您好！",
                "tv@dztv.example": "儋州<i>电视台</i>编辑部：您好！"}
    wrong = {key: line for key, line in greetings.items() if line != expected[key[1]]}
    assert not wrong, f"greeted by another outlet's name: {wrong}"


def test_the_outlet_name_from_the_sheet_is_escaped_in_the_media_html(mailed: Mailed) -> None:
    draft_id = mailed.drafts[material()["title"]]
    (message,) = mailed.find("release", draft_id, "tv@dztv.example")
    markup = html_of(message)
    assert "儋州&lt;i&gt;电视台&lt;/i&gt;编辑部" in markup and "<i>电视台" not in markup
    assert plain(message).startswith("儋州<i>电视台</i>编辑部：您好！")
    assert_well_formed(markup)


def test_sheet_html_is_escaped_in_the_draft_and_media_emails_and_kept_in_their_text(mailed: Mailed) -> None:
    draft_id = mailed.drafts[SCRIPT_TITLE]
    (draft,) = mailed.find("draft", draft_id)
    media = mailed.find("release", draft_id)
    assert len(media) == 2                      # 《法制时报》 and the TV station take every kind
    for message in (draft, *media):
        markup = html_of(message)
        assert "<script" not in markup.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
        assert "<b>李某强" not in markup and "&lt;b&gt;李某强&lt;/b&gt;" in markup
        assert_well_formed(markup)
        assert SCRIPT_TITLE in str(message["Subject"])
        assert SCRIPT_TITLE in plain(message)
        assert "<b>李某强</b>拒不履行" in plain(message)
    for message in media:
        assert SCRIPT_TITLE in docx_text(message)


# --- one letter per outlet, rendered once -------------------------------------------------------------------------

PEOPLE = [{"outlet": "《法制时报》", "contact": "郑丽华"}, {"outlet": "儋州<i>电视台</i> & 广播", "contact": ""},
          {"outlet": "  今日儋州 ", "contact": " 王编辑"}, {"outlet": "A&B \"Daily\"", "contact": "O'Neil"},
          {"outlet": "两行\n名称", "contact": "x"}, {"outlet": "", "contact": "只有联系人"},
          {"outlet": "\uf8f00\uf8f1", "contact": "像占位符的名称"}, {"outlet": "人民日报", "contact": "李编辑"},
          {"outlet": "海南日报", "contact": ""}, {"outlet": "", "contact": ""}, {"outlet": "南国都市报", "contact": ""}]
SHIPPED = (TEMPLATES / "media.txt").read_text(encoding="utf-8"), (TEMPLATES / "media.html").read_text(encoding="utf-8")
EDITED = {
    "as shipped": SHIPPED,
    "untrimmed": ("{{ outlet }}：{{ contact }}\n{{ outlet }}编辑部{{ contact }}好\n", "<p>{{ outlet }}{{ contact }}</p>"),
    "subject ends with a name": ("通稿 {{ contact }}\n\n{{ contact }}\n正文\n", "<p>{{ outlet|trim }}</p>"),
    "one outlet greeted apart": ("主题\n{% if outlet == \"人民日报\" %}特别问候{% endif %}{{ outlet|trim }}\n",
                                 "<p>{{ outlet|trim }}</p>"),
    "greeted apart, printed plain": ("主题\n{% if outlet == \"人民日报\" %}特别问候{% endif %}{{ outlet }}\n",
                                     "<p>{{ outlet }}</p>"),
    "another filter": ("主题\n{{ outlet|upper }}{{ contact|trim }}\n", "<p>{{ outlet|trim }}</p>"),
    "a filter block": ("主题\n{% filter upper %}{{ outlet }}{% endfilter %}\n", "<p>{{ outlet }}</p>"),
    "a set": ("主题\n{% set who = outlet ~ \"编辑部\" %}{{ who }}{{ contact }}\n", "<p>{{ outlet }}</p>"),
    "a length test": ("主题\n{{ outlet|trim }}{% if contact|length > 2 %}老师{% endif %}\n", "<p>{{ contact }}</p>"),
    "unescaped": ("主题\n{{ outlet|trim }}\n", "<p>{{ outlet|safe }}{% autoescape false %}{{ contact }}{% endautoescape %}</p>"),
    "an include": ("主题\n{% include \"greeting.txt\" %}\n", "<p>{{ outlet }}</p>"),
    "both forms": ("主题\n{{ outlet }}{{ outlet|trim }}\n", "<p>{{ outlet|trim }}</p>"),
}
SHIPPED_CONTEXT = {"court": {"name": COURT, "office": "执行宣传工作办公室", "contact": "0898-23300000"},
                   "release_text": "标题\n\n正文一段。\n", "release_html": "<p>正文一段。</p>",
                   "release": {"headline": "标题", "kind": "执行成功", "date": DAY}, "unsubscribe": "office@court.example"}


@pytest.mark.parametrize("variant", list(EDITED))
def test_each_outlets_letter_is_what_rendering_it_alone_makes(tmp_path: Path, variant: str) -> None:
    """A release's letter to a thousand outlets is rendered once when the template only prints the outlet's
    names; whatever the office writes in it, every letter is the one rendered for that outlet alone: names
    with markup, blank, padded, on two lines; a template that greets one outlet apart, filters or tests a
    name, prints it unescaped, or puts it at the subject's end."""
    write(tmp_path, "media", *EDITED[variant])
    (tmp_path / "greeting.txt").write_text("{% if outlet == \"人民日报\" %}特别问候{% endif %}{{ outlet }}", encoding="utf-8")
    context = SHIPPED_CONTEXT if variant == "as shipped" else {}

    letters = render_each("media", context, PEOPLE, folder=tmp_path)

    assert letters == [render("media", {**context, **person}, folder=tmp_path) for person in PEOPLE]


def test_a_name_that_begins_the_subject_line_is_read_as_rendering_it_alone_reads_it(tmp_path: Path) -> None:
    """The subject is the letter's first line less a leading 主题： or Subject:. A template that begins that line
    with the outlet's name, for an outlet whose name itself begins so: its letter's subject is the one rendering
    it alone makes, whichever outlet of the same blanks came first."""
    write(tmp_path, "media", "{{ outlet }}：{{ contact }}新闻通稿\n{{ outlet }}编辑部：您好！\n", "<p>{{ outlet }}</p>")
    people = [{"outlet": "法制时报", "contact": "郑丽华"}, {"outlet": "主题：法治周刊", "contact": "王编辑"},
              {"outlet": "Subject:Law Weekly", "contact": "O'Neil"}]

    letters = render_each("media", {}, people, folder=tmp_path)

    assert [letter.subject for letter in letters] == ["法制时报：郑丽华新闻通稿", "法治周刊：王编辑新闻通稿",
                                                      "Law Weekly：O'Neil新闻通稿"]
    assert letters == [render("media", person, folder=tmp_path) for person in people]


# --- the filters ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    date(2026, 11, 28), datetime(2026, 11, 28, 15, 30), datetime.fromisoformat("2026-11-28T23:59:00+08:00"),
    "2026-11-28", "2026-11-28T09:30:00", "2026-11-28T09:30:00+08:00",
], ids=["date", "datetime", "aware datetime", "iso date", "iso datetime", "iso with offset"])
def test_cn_date(value) -> None:
    assert cn_date(value) == "2026年11月28日"


def test_cn_date_has_no_leading_zeros_and_blank_stays_blank() -> None:
    assert cn_date(date(2026, 1, 5)) == "2026年1月5日"
    assert cn_date("") == "" and cn_date(None) == ""


def test_cn_date_leaves_the_release_date_token_for_fill_date() -> None:
    assert DATE_TOKEN == "〔发布日期〕"
    assert cn_date(DATE_TOKEN) == DATE_TOKEN
    text = f"来源：儋州市人民法院\n发布日期：{DATE_TOKEN}\n"
    assert fill_date(text, date(2026, 11, 30)) == "来源：儋州市人民法院\n发布日期：2026年11月30日\n"
    assert fill_date(text, None) == "来源：儋州市人民法院\n发布日期：审核通过之日\n"
    assert fill_date("发布日期：2026年11月29日", date(2026, 11, 30)) == "发布日期：2026年11月29日"


@pytest.mark.parametrize("value, shown", [
    (3500, "3,500元"),
    (0, "0元"),
    (9999, "9,999元"),
    (3500.5, "3,500.5元"),
    ("3,500", "3,500元"),
    (10000, "1万元"),
    (280000, "28万元"),
    ("280000", "28万元"),
    (Decimal("280000.00"), "28万元"),
    (123456, "12.35万元"),            # ten-thousands to two decimals
    (2860000, "286万元"),
    (512000, "51.2万元"),
    (1000000, "100万元"),
    ("abc", "abc"),
    ("28万", "28万"),
], ids=lambda v: repr(v))
def test_cn_amount(value, shown: str) -> None:
    assert cn_amount(value) == shown


@pytest.mark.parametrize("value, shown", [(123450, "12.35万元"), (10050, "1.01万元"), (3500.125, "3,500.13元")])
def test_cn_amount_rounds_halves_up_as_published_amounts_do(value, shown: str) -> None:
    """四舍五入: a press release rounds 12.345万 to 12.35万, not to the even 12.34万."""
    assert cn_amount(value) == shown


def test_the_filters_work_inside_a_template(tmp_path: Path) -> None:
    write(tmp_path, "f", "主题\n{{ day|cn_date }} {{ money|cn_amount }}\n", "<p>{{ money|cn_amount }}</p>\n")
    rendered = render("f", {"day": DAY, "money": 280000}, folder=tmp_path)
    assert rendered.subject == "主题"
    assert rendered.text.strip() == "2026年11月28日 28万元"
    assert rendered.html.strip() == "<p>28万元</p>"


def test_the_office_notices_are_templates_and_escape_what_they_quote() -> None:
    """The blocked-release alert quotes the guard's reason, which quotes the row: in HTML it is text, never markup."""
    from pipeline.texts.render import render
    notice = render("notices/blocked", {"draft_id": "D-2026-000007", "reason": "含<script>x</script>的手机号"})
    assert notice.subject == "【发布被拦截】D-2026-000007 含未遮蔽的个人信息"
    assert "<script>" not in notice.html and "&lt;script&gt;" in notice.html
    assert "含<script>x</script>的手机号" in notice.text
    changed = render("notices/invitation_changed", {"invitation_id": "I-2026-000002", "what": "12月12日（星期六）",
                                                    "sent_at": "2026-12-01 09:00"})
    assert changed.subject.startswith("【邀请函变更提醒】I-2026-000002") and "请及时通知受邀的代表委员" in changed.text
