"""The court's publicity work plan as rules (``rules``), and the office's review of what it drafts (``review``)."""
