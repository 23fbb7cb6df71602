"""The command line's own words in Chinese: argparse's usage line, section titles, help and errors.

argparse says its words through ``gettext`` (``argparse._``/``argparse.ngettext``), looked up when they are
said. The standard library ships no Chinese catalogue for them, and a compiled catalogue would be one
more build step; so while the parser is built and parses, :func:`chinese` puts this table in gettext's
place and takes it out again. The names of commands and options stay English, for scripts.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from ..core.config import COMMAND

WORDS = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s：%(message)s",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是 %(matches)s",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "最多只能有一个值",
    "expected one argument": "后面需要跟一个值",
    "ignored explicit argument %r": "不需要值，却给了 %r",
    "invalid %(type)s value: %(value)r": "值 %(value)r 无效",
    "invalid choice: %(value)r (choose from %(choices)s)": "没有 %(value)r 这一项（可选：%(choices)s）",
    "not allowed with argument %s": "不能与 %s 同时使用",
    "one of the arguments %s is required": "%s 至少要给一个",
    "the following arguments are required: %s": "缺少必填的 %s",
    "unrecognized arguments: %s": f"无法识别：%s（运行 {COMMAND} -h 查看用法）",
    "unexpected option string: %s": "多余的选项：%s",
}
PLURALS = {"expected %s argument": "后面需要跟 %s 个值", "expected %s arguments": "后面需要跟 %s 个值"}


def _say(message: str) -> str:
    return WORDS.get(message, message)


def _say_count(singular: str, plural: str, count: int) -> str:
    return PLURALS.get(singular if count == 1 else plural, singular if count == 1 else plural)


@contextmanager
def chinese() -> Iterator[None]:
    """argparse speaks Chinese inside the block (building the parser, parsing, printing help)."""
    said, counted = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _say, _say_count
    try:
        yield
    finally:
        argparse._, argparse.ngettext = said, counted
