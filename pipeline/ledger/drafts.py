"""What drafting and review record: drafts (every version) and the office's decisions."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime


class DraftStore:
    db: sqlite3.Connection
