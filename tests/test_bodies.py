"""A release's body is stored once, not once per outlet (ledger schema 8).

Each outlet's copy is rendered from the media template as before (it greets the outlet by name); the
ledger keeps the body the outlets share once per message (``message_bodies``) and, per delivery, only
where its copy differs (``delivery_parts``). What is sent, shown by ``resend --dry-run`` and read by
name from ``delivery_bodies`` is each outlet's whole copy, character for character. No time is asserted.
"""

from __future__ import annotations

import random

import pytest
from conftest import Workspace, material, run_job

from pipeline.core.model import MessageKey
from pipeline.flows import decisions, publishing, pulling
from pipeline.ledger import Ledger
from pipeline.ledger.mail import join_body, split_body
from pipeline.mail.transport import OutboxTransport

OUTLETS = 12


def contacts(count: int) -> list[dict[str, str]]:
    return [{"outlet": f"媒体{i:04d}", "contact": "编辑" if i % 2 else "", "email": f"desk{i:04d}@media.example",
             "kinds": "全部", "enabled": "是"} for i in range(count)]


@pytest.fixture()
def approved(workspace: Workspace) -> tuple[Workspace, str]:
    workspace.make_workbook([material()], media=contacts(OUTLETS))
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    return workspace, draft_id


def test_each_outlet_receives_its_whole_copy_and_the_body_is_stored_once(approved) -> None:
    workspace, draft_id = approved
    previews = {o.recipient: o for o in run_job(workspace.settings, publishing.publish, dry_run=True).previews
                if o.purpose == "release"}
    assert len(previews) == OUTLETS

    run = run_job(workspace.settings, publishing.publish, transport=OutboxTransport(workspace.root / "sent"))
    assert run.report.counts["sent"] == OUTLETS + 1                   # the outlets and the national network

    key = MessageKey("release", draft_id)
    with Ledger(workspace.ledger) as ledger:
        for recipient, preview in previews.items():
            stored = ledger.stored_delivery(key, recipient)
            assert (stored.subject, stored.text, stored.html, stored.name) == \
                (preview.subject, preview.text, preview.html, preview.name)
        whole = {r["recipient"]: (r["text"], r["html"]) for r in ledger.db.execute(
            "SELECT recipient, text, html FROM delivery_bodies WHERE key = ?", (str(key),))}
        assert whole == {r: (p.text, p.html) for r, p in previews.items()}
        [shared] = ledger.db.execute("SELECT text, html FROM message_bodies WHERE key = ?", (str(key),)).fetchall()
        parts = ledger.db.execute("SELECT text, html FROM delivery_parts WHERE key = ?", (str(key),)).fetchall()
    body = len(shared["text"]) + len(shared["html"])
    assert len(parts) == OUTLETS
    # Each delivery keeps its greeting, not the release: a few dozen characters of a body of thousands.
    assert all(len(p["text"]) + len(p["html"]) < 100 < body for p in parts)


def test_a_body_stored_whole_before_schema_8_is_sent_as_it_was(approved) -> None:
    workspace, draft_id = approved
    key = MessageKey("release", draft_id)
    run_job(workspace.settings, publishing.publish, transport=OutboxTransport(workspace.root / "sent"))
    recipient = "desk0003@media.example"
    with Ledger(workspace.ledger) as ledger:
        before = ledger.stored_delivery(key, recipient)
        with ledger.transaction():        # as a delivery queued before the upgrade holds it: its whole body
            ledger.db.execute("UPDATE delivery_parts SET text = ?, html = ?, text_head = NULL, text_tail = NULL, "
                              "html_head = NULL, html_tail = NULL WHERE key = ? AND recipient = ?",
                              (before.text, before.html, str(key), recipient))
        after = ledger.stored_delivery(key, recipient)
        [(text,)] = ledger.db.execute("SELECT text FROM delivery_bodies WHERE key = ? AND recipient = ?",
                                      (str(key), recipient)).fetchall()
    assert (after.text, after.html) == (before.text, before.html)
    assert text == before.text


def test_a_body_written_by_name_is_kept_whole(workspace: Workspace) -> None:
    """Whatever inserts into ``delivery_bodies`` by name (an older tool, a generated history) still works."""
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    with Ledger(workspace.ledger) as ledger, ledger.transaction():
        ledger.db.execute("INSERT INTO delivery_bodies VALUES ('x/1', 'a@b.example', '正文', '<p>正文</p>')")
        row = ledger.db.execute("SELECT * FROM delivery_parts WHERE key = 'x/1'").fetchone()
        [view] = ledger.db.execute("SELECT text, html FROM delivery_bodies WHERE key = 'x/1'").fetchall()
    assert (row["text"], row["text_head"]) == ("正文", None)
    assert tuple(view) == ("正文", "<p>正文</p>")


@pytest.mark.parametrize("seed", range(5))
def test_a_copy_is_its_part_between_the_shared_bodys_head_and_tail(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        shared = "".join(rng.choice("执行ab\n<>") for _ in range(rng.randint(0, 9000)))
        copy = list(shared)
        for _ in range(rng.randint(0, 3)):
            at = rng.randint(0, len(copy))
            copy[at:at + rng.randint(0, 9)] = rng.choice(["", "《媒体》编辑部", "x" * rng.randint(1, 5000)])
        whole = "".join(copy)
        own, head, tail = split_body(whole, shared)
        assert join_body(own, head, tail, shared) == whole
        assert head + tail <= min(len(whole), len(shared))
    assert split_body("同一正文", "同一正文") == ("", 4, 0)
