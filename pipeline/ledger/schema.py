"""The ledger's schema: forward-only migrations, applied in order."""

from __future__ import annotations

import sqlite3

# Each entry moves the schema from version i to i + 1. Never edit a shipped
# entry: append a new one, so that every existing ledger can follow.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        job TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

    CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        year INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('valid', 'invalid', 'duplicate')),
        problems TEXT NOT NULL DEFAULT '',
        team TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        publishable INTEGER NOT NULL,
        submitted_at TEXT,
        received_at TEXT NOT NULL,
        week TEXT NOT NULL,
        sheet_row INTEGER NOT NULL,
        removed_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX submissions_week ON submissions (week, team);

    CREATE TABLE submission_versions (
        submission_id TEXT NOT NULL REFERENCES submissions (id),
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        state TEXT NOT NULL,
        problems TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (submission_id, version)
    );

    CREATE TABLE teams (name TEXT PRIMARY KEY, leader TEXT NOT NULL, email TEXT NOT NULL,
                        quota INTEGER NOT NULL);
    CREATE TABLE media (id INTEGER PRIMARY KEY, outlet TEXT NOT NULL, contact TEXT NOT NULL,
                        email TEXT NOT NULL, kinds TEXT NOT NULL, enabled INTEGER NOT NULL);
    CREATE TABLE activities (id INTEGER PRIMARY KEY, day TEXT NOT NULL, kind TEXT NOT NULL,
                             name TEXT NOT NULL, plan_date TEXT);
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        draft_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        comment TEXT NOT NULL,
        sheet_row INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        UNIQUE (draft_id, decision, reviewer, comment)
    );
    CREATE TABLE row_errors (
        tab_key TEXT NOT NULL,
        tab TEXT NOT NULL,
        row INTEGER NOT NULL,
        team TEXT NOT NULL,
        submitter TEXT NOT NULL,
        week TEXT NOT NULL,
        message TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    CREATE TABLE reference_state (name TEXT PRIMARY KEY, digest TEXT NOT NULL);

    CREATE TABLE messages (
        key TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        period TEXT NOT NULL,
        topic TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_purpose ON messages (purpose, period);
    CREATE TABLE message_attachments (
        key TEXT NOT NULL REFERENCES messages (key),
        position INTEGER NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (key, position)
    );
    CREATE TABLE deliveries (
        key TEXT NOT NULL REFERENCES messages (key),
        recipient TEXT NOT NULL,
        name TEXT NOT NULL,
        subject TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('queued', 'sending', 'sent', 'temporary', 'permanent', 'unknown', 'abandoned', 'blocked')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        queued_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (key, recipient)
    );
    CREATE INDEX deliveries_state ON deliveries (state);
    -- Bodies apart from the state row: a delivery's state changes several times,
    -- and rewriting tens of kilobytes of text with every change would be waste.
    CREATE TABLE delivery_bodies (
        key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        PRIMARY KEY (key, recipient)
    );

    CREATE TABLE drafts (
        id TEXT PRIMARY KEY,
        base TEXT NOT NULL,
        version INTEGER NOT NULL,
        year INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        submission_id TEXT NOT NULL REFERENCES submissions (id),
        submission_version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        headline TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'superseded',
                                             'withdrawn', 'published', 'blocked')),
        release_text TEXT NOT NULL,
        release_html TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        masked TEXT NOT NULL DEFAULT '[]',
        proposed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT,
        reason TEXT NOT NULL DEFAULT '',
        published_at TEXT,
        UNIQUE (submission_id, submission_version)
    );
    CREATE INDEX drafts_state ON drafts (state);
    CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        period TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'timeout', 'interrupted')),
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX job_runs_job ON job_runs (job, period);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        draft_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
    # 2: the court's own channels, the deputies' monthly brief, invitations to their visits.
    """
    CREATE TABLE channel_versions (
        draft_id TEXT NOT NULL REFERENCES drafts (id),
        channel TEXT NOT NULL,
        path TEXT NOT NULL,
        ready_at TEXT NOT NULL,
        posted_at TEXT,
        posted_by TEXT,
        PRIMARY KEY (draft_id, channel)
    );
    CREATE TABLE briefs (
        month TEXT PRIMARY KEY,
        year INTEGER NOT NULL,
        issue INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (year, issue)
    );
    CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        year INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        activity_day TEXT NOT NULL,
        activity_name TEXT NOT NULL,
        previous TEXT NOT NULL DEFAULT '',  -- the invitation this one replaces (the visit moved or was renamed)
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn', 'sent', 'expired')),
        subject TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT,
        reason TEXT NOT NULL DEFAULT '',
        sent_at TEXT,
        UNIQUE (year, serial)
    );
    CREATE INDEX invitations_activity ON invitations (activity_day, activity_name);
    """,
    # 3: releases that state only what the material says. A release's date is fixed
    # once (when it is approved or first published); the office's review notes on a
    # draft (which rule masked a name, sentences left out, the fact check); each
    # team's outward name, the one public text uses instead of the internal unit.
    """
    ALTER TABLE drafts ADD COLUMN release_date TEXT;
    ALTER TABLE drafts ADD COLUMN review TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE teams ADD COLUMN outward TEXT NOT NULL DEFAULT '';
    """,
    # 4: at most once, whoever sends: a delivery is claimed by one process (who: pid@host).
    """
    ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
    """,
    # 5: message keys as values: what a message is, what it is about and which of several, each a column
    # (core/model.MessageKey), so that a release's deliveries join its draft without cutting strings.
    # Keys written before are split here, once: what/item[/variant], the item never holding a '/'.
    """
    ALTER TABLE messages ADD COLUMN what TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN item TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN variant TEXT NOT NULL DEFAULT '';
    UPDATE messages SET what = substr(key, 1, instr(key, '/') - 1), item = substr(key, instr(key, '/') + 1);
    UPDATE messages SET variant = substr(item, instr(item, '/') + 1), item = substr(item, 1, instr(item, '/') - 1)
        WHERE instr(item, '/') > 0;
    CREATE INDEX messages_item ON messages (what, item);
    """,
    # 6: a cycle costs what changed, not what happened before. Every question a cycle, the digest or a
    # summary asks finds its rows through an index, however many years of drafts, deliveries, runs and
    # audit lines the ledger holds. ``drafted`` is the newest version of a submission that has a draft
    # (0: none), kept by a trigger on every draft recorded, so that the submissions still to draft are
    # found without reading every submission ever taken in.
    """
    CREATE INDEX drafts_base ON drafts (base, version);
    CREATE INDEX drafts_serial ON drafts (year, serial);
    CREATE INDEX decisions_draft ON decisions (draft_id);
    CREATE INDEX submissions_serial ON submissions (year, serial);
    CREATE INDEX submissions_made ON submissions (COALESCE(submitted_at, received_at));
    CREATE INDEX submission_versions_recorded ON submission_versions (recorded_at);
    DROP INDEX deliveries_state;
    CREATE INDEX deliveries_state ON deliveries (state, updated_at);
    CREATE INDEX deliveries_sent ON deliveries (sent_at) WHERE state = 'sent';
    -- LIKE compares ASCII letters in either case: only an index that does the same serves a prefix.
    CREATE INDEX deliveries_key ON deliveries (key COLLATE NOCASE);
    CREATE INDEX messages_latest ON messages (purpose, created_at);
    CREATE INDEX audit_action ON audit (job, action);
    CREATE INDEX job_runs_outcome ON job_runs (outcome, started_at);
    CREATE INDEX invitations_state ON invitations (state);
    CREATE INDEX invitations_previous ON invitations (previous);
    CREATE INDEX channel_versions_unposted ON channel_versions (draft_id) WHERE channel <> 'network' AND posted_at IS NULL;
    CREATE INDEX channel_versions_ready ON channel_versions (ready_at);
    CREATE INDEX channel_versions_posted ON channel_versions (posted_at);

    ALTER TABLE submissions ADD COLUMN drafted INTEGER NOT NULL DEFAULT 0;
    UPDATE submissions SET drafted = COALESCE(
        (SELECT MAX(d.submission_version) FROM drafts d WHERE d.submission_id = submissions.id), 0);
    CREATE TRIGGER drafts_mark_submission AFTER INSERT ON drafts
        BEGIN
            UPDATE submissions SET drafted = NEW.submission_version
            WHERE id = NEW.submission_id AND drafted < NEW.submission_version;
        END;
    CREATE INDEX submissions_undrafted ON submissions (year, serial)
        WHERE drafted <> version AND removed_at IS NULL AND state = 'valid' AND publishable = 1;
    """,
    # 7: an unchanged workbook costs a hash. ``generation`` counts every write to what a pull compares the
    # sheet against (its submissions, the reference tabs, the reviewed items and their decisions, the review
    # rows seen, the channel versions): a pull whose workbook, config, day, program and generation are those
    # of the last pull that found nothing to do ends there (flows/pulling.py, ``FINGERPRINT``).
    """
    CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
    INSERT INTO generation VALUES (1, 0);
    """ + "".join(
        f"""
    CREATE TRIGGER {table}_generation_{event.lower()} AFTER {event} ON {table}
        BEGIN UPDATE generation SET n = n + 1; END;
    """
        for table in ("submissions", "teams", "media", "activities", "reference_state", "reviews", "drafts",
                      "decisions", "invitations", "channel_versions")
        for event in ("INSERT", "UPDATE", "DELETE")),
    # 8: the media mix of 四(二): each outlet's 类型 (报纸 / 电视 / 广播 / 网络 / 新媒体; '' when the 媒体 tab does not say).
    """
    ALTER TABLE media ADD COLUMN type TEXT NOT NULL DEFAULT '';
    """,
    # 9: the deputies' work plan (四(四), 四(二)). The 数据 tab's enforcement figures, for the brief; an
    # activity's time and place (its invitation says them) and whether it took place (已召开: a press
    # conference counts only once held). A month may have a second brief: one issued before the month
    # ended (as the pipeline once allowed) is superseded by the full one, a new issue naming it (``replaces``).
    """
    CREATE TABLE figures (id INTEGER PRIMARY KEY, month TEXT NOT NULL, metric TEXT NOT NULL,
                          value TEXT NOT NULL, source TEXT NOT NULL);
    CREATE INDEX figures_month ON figures (month);
    ALTER TABLE activities ADD COLUMN time TEXT NOT NULL DEFAULT '';
    ALTER TABLE activities ADD COLUMN place TEXT NOT NULL DEFAULT '';
    ALTER TABLE activities ADD COLUMN held INTEGER;
    CREATE TABLE briefs_v9 (
        month TEXT NOT NULL,
        year INTEGER NOT NULL,
        issue INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        replaces INTEGER,
        UNIQUE (year, issue)
    );
    INSERT INTO briefs_v9 (month, year, issue, created_at) SELECT month, year, issue, created_at FROM briefs;
    DROP TABLE briefs;
    ALTER TABLE briefs_v9 RENAME TO briefs;
    CREATE INDEX briefs_month ON briefs (month, issue);
    """ + "".join(
        f"""
    CREATE TRIGGER figures_generation_{event.lower()} AFTER {event} ON figures
        BEGIN UPDATE generation SET n = n + 1; END;
    """
        for event in ("INSERT", "UPDATE", "DELETE")),
    # 10: a release's body is stored once, not once per outlet. ``message_bodies`` holds a message's body as its
    # first recipient's copy reads; each delivery keeps only where its own copy differs (``delivery_parts``:
    # the shared body's first ``*_head`` and last ``*_tail`` characters around its own text; the greeting of
    # one outlet is a few dozen characters of a 60 KB release). Rows written before keep their whole body
    # (``*_head`` NULL) and are read as they are. ``delivery_bodies`` stays, as a view of every delivery's
    # whole body, for whatever reads or writes it by that name.
    """
    CREATE TABLE message_bodies (
        key TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL
    );
    ALTER TABLE delivery_bodies RENAME TO delivery_parts;
    ALTER TABLE delivery_parts ADD COLUMN text_head INTEGER;
    ALTER TABLE delivery_parts ADD COLUMN text_tail INTEGER;
    ALTER TABLE delivery_parts ADD COLUMN html_head INTEGER;
    ALTER TABLE delivery_parts ADD COLUMN html_tail INTEGER;
    CREATE VIEW delivery_bodies (key, recipient, text, html) AS
        SELECT p.key, p.recipient,
            CASE WHEN p.text_head IS NULL THEN p.text ELSE substr(s.text, 1, p.text_head) || p.text ||
                CASE WHEN p.text_tail = 0 THEN '' ELSE substr(s.text, -p.text_tail) END END,
            CASE WHEN p.html_head IS NULL THEN p.html ELSE substr(s.html, 1, p.html_head) || p.html ||
                CASE WHEN p.html_tail = 0 THEN '' ELSE substr(s.html, -p.html_tail) END END
        FROM delivery_parts p LEFT JOIN message_bodies s ON s.key = p.key;
    CREATE TRIGGER delivery_bodies_insert INSTEAD OF INSERT ON delivery_bodies
        BEGIN
            INSERT INTO delivery_parts (key, recipient, text, html) VALUES (NEW.key, NEW.recipient, NEW.text, NEW.html);
        END;
    """,
    # 11: the deputies' answers to their invitations (四(四)), as the office enters them on the 回执 tab: one row per
    # invitation and deputy (the address it went to), replaced whole when the tab changes, like the other tabs.
    """
    CREATE TABLE replies (invitation TEXT NOT NULL, recipient TEXT NOT NULL, answer TEXT NOT NULL,
                          note TEXT NOT NULL DEFAULT '', PRIMARY KEY (invitation, recipient));
    """ + "".join(
        f"""
    CREATE TRIGGER replies_generation_{event.lower()} AFTER {event} ON replies
        BEGIN UPDATE generation SET n = n + 1; END;
    """
        for event in ("INSERT", "UPDATE", "DELETE")),
    # 12: results reported upward (四(六) 宣传成效) and the columns of 四(二). Each outlet's 级别 (中央 / 省级 /
    # 市县) and the column it runs for the court (专栏, ``column_name``) with its cadence (专栏周期); the 刊发
    # tab's placements: where each published release ran (its outlet as the 媒体 tab names it, the day, the
    # page or address, its 类型 and 级别 as worked out at the pull, the column it fills), replaced as a whole
    # when the tab changes, like the other reference tabs.
    """
    ALTER TABLE media ADD COLUMN level TEXT NOT NULL DEFAULT '';
    ALTER TABLE media ADD COLUMN column_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE media ADD COLUMN cadence TEXT NOT NULL DEFAULT '';
    CREATE TABLE placements (
        id INTEGER PRIMARY KEY,
        draft_id TEXT NOT NULL,
        outlet TEXT NOT NULL,
        day TEXT NOT NULL,
        slot TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        type TEXT NOT NULL DEFAULT '',
        level TEXT NOT NULL DEFAULT '',
        column_name TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX placements_day ON placements (day);
    """ + "".join(
        f"""
    CREATE TRIGGER placements_generation_{event.lower()} AFTER {event} ON placements
        BEGIN UPDATE generation SET n = n + 1; END;
    """
        for event in ("INSERT", "UPDATE", "DELETE")),
    # 13: the team that owns an activity (the 活动 tab's 负责部门): a 代表委员看执行 visit's report is asked of it
    # (三(十), 四(四)). '' when the tab does not say; the office is asked then.
    """
    ALTER TABLE activities ADD COLUMN team TEXT NOT NULL DEFAULT '';
    """,
    # 14: a sender reserves the next deliveries of a batch in one commit that waits for the disk, and marks each
    # one 'sending' in a commit that does not, as it hands it over (flows/dispatch.py, docs/architecture.md
    # "Durability"). ``reserved_on`` is the machine's boot the reservation was made in, ``reserved_at`` when:
    # a reservation its sender left is released within the same boot (a killed process handed nothing more
    # over) and becomes 'unknown' after a restart (a power cut may have taken back a 'sending' mark).
    """
    ALTER TABLE deliveries ADD COLUMN reserved_on TEXT;
    ALTER TABLE deliveries ADD COLUMN reserved_at TEXT;
    CREATE INDEX deliveries_reserved ON deliveries (reserved_at) WHERE reserved_on IS NOT NULL;
    """,
)


def statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
