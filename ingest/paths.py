"""Where the checkout keeps its own files: the one definition of the project root.

It imports nothing of the project, so every layer (and eval/, bench/, app.py) may use it.
Scripts run by path (bench/*.py, tests/conftest.py) still put the root on sys.path
themselves: they must, before they can import this.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# gazetteer/, the sample bulletins, index/ and feedback/ by default
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_BULLETINS = DATA_DIR / "bulletins"  # the five sample bulletins, byte for byte
