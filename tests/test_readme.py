"""The README's Python examples run as written (a README that lies is a defect)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README should show the model in use"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
