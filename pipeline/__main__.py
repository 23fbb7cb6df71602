"""``python -m pipeline [--config PATH] COMMAND``: the same command line as ``python run.py``."""

import sys

from pipeline.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
