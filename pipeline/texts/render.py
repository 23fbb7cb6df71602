"""The Jinja environment: sandboxed, autoescaped HTML, strict about undefined names.

The office edits the templates in ``templates/``, so they run sandboxed (no
access to Python internals) and a typo in a variable name is an error naming
the template, the line and the variable — never a blank in a press release.
Templates come in pairs: ``NAME.html`` (autoescaped) and ``NAME.txt``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from ..core.config import COMMAND
from ..core.config import TEMPLATES as _TEMPLATES
from ..core.errors import PipelineError

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment        # Jinja is imported when a template is first rendered

TEMPLATES = _TEMPLATES
# Where a release's date stands until it is fixed: a release is dated the day it
# is approved, so its text is rendered with this token and filled by fill_date().
DATE_TOKEN = "〔发布日期〕"
# What the office's draft shows in the token's place.
DATE_PENDING = "审核通过之日"


class RenderError(PipelineError):
    """A template is missing, malformed or uses a name it was not given."""


# Marks around a printed value saying where it came from: the team's material, the court's settings,
# the fixed legal text, the release's footer (private-use characters; see compose.py, which strips them).
TEAM, COURT, LAW, FOOTER = ("\ue000", "\ue001"), ("\ue002", "\ue003"), ("\ue004", "\ue005"), ("\ue006", "\ue007")


def mark(value: Any, marks: tuple[str, str]) -> str:
    """``value`` between ``marks``; blank stays "" so that a template's ``{% if %}`` sees it blank."""
    value = str(value).strip()
    return f"{marks[0]}{value}{marks[1]}" if value else ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def cn_date(value: date | datetime | str | None) -> str:
    """``2026年11月28日`` — the date form of a Chinese press release.

    :data:`DATE_TOKEN` is returned as it is, so that a template can print
    ``{{ release.date|cn_date }}`` before the release's date is known.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str) and value == DATE_TOKEN:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value.year}年{value.month}月{value.day}日"


def fill_date(text: str, day: date | None) -> str:
    """``text`` with :data:`DATE_TOKEN` replaced by ``day`` (``2026年11月30日``), or by
    审核通过之日 while the release is not approved yet (``day`` None)."""
    return text.replace(DATE_TOKEN, DATE_PENDING if day is None else cn_date(day))


def cn_amount(value: Any) -> str:
    """Amounts in 元, switching to 万元 from ten thousand: ``28万元``, ``3,500元``, ``12.35万元``
    (rounded half up, 四舍五入, as published amounts are)."""
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", ""))
    except InvalidOperation:
        return str(value)
    if abs(amount) >= 10000:
        wan = (amount / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        return f"{wan:f}万元"
    whole = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{whole:,f}元"


def exact_amount(value: str) -> str:
    """The 执行到位金额 as a release prints it, exactly as the row gives it: ``51.2万元`` when it is a
    whole number of hundreds of yuan, ``1.5亿元`` from a hundred million, else ``99,999元``; a
    published amount is a fact, so it is never rounded. Blank or nothing recovered: ""."""
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return ""
    if amount <= 0:
        return ""
    if amount >= 100_000_000 and amount % 1_000_000 == 0:
        return f"{(amount / 100_000_000).normalize():f}亿元"
    if amount >= 10_000 and amount % 100 == 0:
        return f"{(amount / 10_000).normalize():f}万元"
    return f"{amount.normalize():,f}元"


@functools.lru_cache(maxsize=8)
def environment(folder: Path = TEMPLATES) -> SandboxedEnvironment:
    """One environment per template folder, so each template compiles once; Jinja
    still checks the files' dates, so an edited template takes effect at once."""
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(folder), encoding="utf-8"),
        autoescape=lambda name: bool(name) and name.endswith(".html"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["command"] = COMMAND       # how the office starts the program here: {{ command }} approve …
    env.filters["cn_date"] = cn_date
    env.filters["cn_amount"] = cn_amount
    env.filters["law"] = lambda value: mark(value, LAW)         # {{ text|law }}: a release's fixed legal text
    env.filters["footer"] = lambda value: mark(value, FOOTER)   # {% filter footer %}: its footer lines
    return env


def render(name: str, context: dict[str, Any], *, folder: Path = TEMPLATES) -> Rendered:
    """Render ``NAME.txt`` and ``NAME.html``; the subject is the text's first line."""
    env = environment(folder)
    return _letter(_render(env, f"{name}.txt", context), _render(env, f"{name}.html", context))


def _letter(text: str, html: str) -> Rendered:
    """A rendered pair as a letter: the text's first line, less a leading ``Subject:`` or ``主题：``, its subject."""
    subject, _, body = text.partition("\n")
    subject = subject.removeprefix("Subject:").removeprefix("主题：").strip()
    return Rendered(subject=subject, text=body.lstrip("\n"), html=html)


def render_each(name: str, context: dict[str, Any], people: list[dict[str, str]], *,
                folder: Path = TEMPLATES) -> list[Rendered]:
    """``render(name, {**context, **person})`` for each of ``people`` (a release's letter to each outlet).

    Rendered once, with a stand-in for each of a person's values, when both templates only print those values
    (``{{ outlet }}`` or ``{{ outlet|trim }}``: never tested, filtered otherwise or passed on), and each
    person's values put in the stand-ins' place; otherwise, and for a value the stand-in cannot carry (one
    with line breaks, or white space at its ends where it is printed untrimmed), rendered for the person alone.
    Either way each letter is what rendering it alone makes (tests/test_render.py compares them)."""
    if not people:
        return []
    keys = tuple(people[0])
    forms = _printed(environment(folder), name, keys)
    if forms is None:
        return [render(name, {**context, **person}, folder=folder) for person in people]
    from markupsafe import escape

    stand_ins = {key: f"{_STAND_IN[0]}{number}{_STAND_IN[1]}" for number, key in enumerate(keys)}
    env = environment(folder)
    # The values go into the text as rendered, before its first line is taken for the subject and its edges
    # stripped, so that a value at the start of the subject line is read as it is when rendered alone.
    once_text = _render(env, f"{name}.txt", {**context, **stand_ins})
    once_html = _render(env, f"{name}.html", {**context, **stand_ins})
    # The first person of each pattern of blank values is rendered alone too, and the pattern is put in only if
    # they agree (a stand-in in the template's own text or the release's would not).
    trusted: dict[tuple[bool, ...], bool] = {}
    out = []
    for person in people:
        shown = {key: str(person.get(key, "")) for key in keys}
        shown = {key: value.strip() if forms[key] == "trim" else value for key, value in shown.items()}
        if set(person) != set(keys) or any(_STAND_IN[0] in v or _STAND_IN[1] in v or "\n" in v or "\r" in v
                                           or v != v.strip() for v in shown.values()):
            out.append(render(name, {**context, **person}, folder=folder))
            continue
        text_values = {stand_ins[key]: value for key, value in shown.items()}
        html_values = {stand_ins[key]: str(escape(value)) for key, value in shown.items()}
        made = _letter(_put(once_text, text_values), _put(once_html, html_values))
        pattern = tuple(bool(value) for value in shown.values())
        if pattern not in trusted:
            alone = render(name, {**context, **person}, folder=folder)
            trusted[pattern] = alone == made
            made = alone
        elif not trusted[pattern]:
            made = render(name, {**context, **person}, folder=folder)
        out.append(made)
    return out


_STAND_IN = ("\uf8f0", "\uf8f1")      # private-use characters: what a person's value stands in for


def _put(text: str, values: dict[str, str]) -> str:
    for stand_in, value in values.items():
        text = text.replace(stand_in, value)
    return text


def _printed(env: SandboxedEnvironment, name: str, keys: tuple[str, ...]) -> dict[str, str] | None:
    """How ``NAME.txt`` and ``NAME.html`` use each of ``keys``: "" when they only print it as it is, "trim" when
    only trimmed (or not at all); None when either uses one otherwise, or could (inheritance, includes,
    imports, macros, filter and autoescape blocks)."""
    from jinja2 import nodes

    plain = (nodes.Template, nodes.Output, nodes.If, nodes.For)
    forms: dict[str, set[str]] = {key: set() for key in keys}
    for suffix in (".txt", ".html"):
        try:
            source, _, _ = env.loader.get_source(env, f"{name}{suffix}")
            tree = env.parse(source)
        except Exception:       # noqa: BLE001 - rendered one by one, where the error is reported as usual
            return None
        if any(tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
            return None         # another template could use the values: not looked into
        parents: dict[int, nodes.Node] = {}
        for node in tree.find_all(nodes.Node):
            for child in node.iter_child_nodes():
                parents[id(child)] = node
        for found in tree.find_all(nodes.Name):
            if found.name not in forms:
                continue
            parent, form = parents.get(id(found)), ""
            if (isinstance(parent, nodes.Filter) and parent.name == "trim" and parent.node is found
                    and not parent.args and not parent.kwargs and parent.dyn_args is None
                    and parent.dyn_kwargs is None):
                parent, form = parents.get(id(parent)), "trim"
            if not isinstance(parent, nodes.Output) or found.ctx != "load":
                return None
            ancestor = parents.get(id(parent))
            while ancestor is not None:
                if not isinstance(ancestor, plain):
                    return None
                ancestor = parents.get(id(ancestor))
            forms[found.name].add(form)
    if any(len(used) > 1 for used in forms.values()):
        return None
    return {key: next(iter(used)) if used else "trim" for key, used in forms.items()}


def render_file(name: str, context: dict[str, Any], *, folder: Path = TEMPLATES) -> str:
    """Render one template whole (``channels/weibo.txt``), with the same error reporting."""
    return _render(environment(folder), name, context)


def _render(env: SandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import SecurityError
    try:
        return env.get_template(name).render(context)
    # The place and Jinja's own words (a maintainer searches for them), then what they mean, in Chinese.
    except TemplateNotFound as exc:
        raise RenderError(f"{env.loader.searchpath[0]}/{exc.name or name}: 找不到模板文件") from None
    except TemplateSyntaxError as exc:
        raise RenderError(f"{exc.name or exc.filename or name}:{exc.lineno}: {exc.message}"
                          "（模板语法有误，请检查该行的 {{ }} 与 {% %} 是否成对）") from None
    except UndefinedError as exc:
        raise RenderError(f"{_where(exc, env, name)}: {exc.message}"
                          "（模板用了不存在的名称，请对照该模板开头的说明改正）") from None
    except SecurityError as exc:
        raise RenderError(f"{_where(exc, env, name)}: 模板中不允许这样写（{exc}）") from None
    except TemplateError as exc:
        raise RenderError(f"{_where(exc, env, name)}: {exc}（模板有误）") from None


def _where(exc: BaseException, env: SandboxedEnvironment, name: str) -> str:
    """``template:line`` of the innermost template frame of the error — the base
    template when the mistake is there, not the child that extends it."""
    folders = [str(Path(p).resolve()) for p in env.loader.searchpath]
    tb, where = exc.__traceback__, f"{name}:?"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        for folder in folders:
            if filename.startswith(folder):
                where = f"{Path(filename).relative_to(folder).as_posix()}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
