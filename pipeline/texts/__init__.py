"""Everything the pipeline writes for people: releases (``compose``: names by law, identifiers out, the fact
check), the .docx, the office's notices, all through the Jinja templates (``render``). Pure."""
