"""The jobs, each gathering from the sheet and the ledger, composing, and committing: pull and the office's
mail (``jobs``), drafting, review and publishing, channels, invitations, summaries, the deputies' brief, and
the one path mail leaves by (``dispatch``)."""
