"""Tests import this checkout's cli.py first. An editable install copies cli.py into
site-packages (pyproject's hatch force-include places it beside the package), and that copy,
frozen at install time, would otherwise shadow the file being edited and tested."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent)
if sys.path[0] != ROOT:
    sys.path.insert(0, ROOT)
sys.modules.pop("cli", None)  # in case a plugin imported the installed copy already
