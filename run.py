#!/usr/bin/env python3
"""Entry point: ``python run.py [--config PATH] COMMAND`` (see README.md)."""

import sys

from pipeline.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
