#!/usr/bin/env python3
"""Longer fuzzing run than CI's: hypothesmith programs through the analyser and mutated fixture
ports through check + fix (see tests/test_fuzz.py for the properties).

    .venv/bin/python scripts/fuzz.py [EXAMPLES]     (default 2000 per property, random seeds)
"""

import os
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
examples = sys.argv[1] if len(sys.argv) > 1 else "2000"
env = {**os.environ, "PORTLINT_FUZZ_EXAMPLES": examples, "PORTLINT_FUZZ_RANDOM": "1"}
sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-x", "tests/test_fuzz.py"], cwd=root, env=env))
