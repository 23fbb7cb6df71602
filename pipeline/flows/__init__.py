"""The jobs, each on the context the command line or the scheduler built (``context``): gathering from the
sheet and the ledger, composing, committing. The pull (``pulling``), the week's status, check, digest and
reminders (``week``), drafting, review and publishing, channels, invitations, summaries, the deputies'
brief, and the one path mail leaves by (``dispatch``)."""
