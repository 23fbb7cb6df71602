"""The court's publicity work plan as data (``obligations``) and as rules that yield findings (``rules``), and the office's review of what it drafts (``review``)."""
