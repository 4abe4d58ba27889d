"""docs/values-and-codes.md is generated from the reference registry's answers and cannot drift."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "values_and_codes", ROOT / "tools" / "values_and_codes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGE = ROOT / "docs" / "values-and-codes.md"


def test_the_committed_page_is_what_the_code_answers_today() -> None:
    assert PAGE.read_text(encoding="utf-8") == _generator().render(), (
        "docs/values-and-codes.md is stale: run python tools/values_and_codes.py"
    )


def test_the_page_answers_each_question_a_new_adapter_writer_asked() -> None:
    text = PAGE.read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}

    def row(start: str) -> str:
        return next(line for key, line in rows.items() if key.startswith(start))

    assert "`YYYY-MM-DD`" in row("`issuance_datestamp`")
    assert "'Electricity'" in row("`energy_carrier`")
    assert "**ID**" in row("`issuing_body`")
    assert "accepted" in row("`energy_wh` as text") and row("`energy_wh` as an integer")
    assert "`account_id`, `holder_id`" in text
    expected = {
        "claim of a bundle that is not cancelled": "`NOT_CANCELLED`",
        "second claim": "`ALREADY_CLAIMED`",
        "release of a bundle that is not reserved": "`NOT_RESERVED`",
        "reuse of a split parent": "`BUNDLE_NOT_ACTIVE`",
        "duplicate device": "`DUPLICATE_DEVICE`",
        "a holder querying another": "`NOT_OWNER`",
        "cancellation from the issuer's exempt": "`ISSUER_MAY_NOT_TRADE`",
        "the issuer LOCKs": "`accepted`",
        "the issuer RESERVEs": "`NOT_OWNER`",
    }
    for situation, code in expected.items():
        assert code in row(situation).split("|")[3], situation


def test_adapters_md_links_the_generated_page() -> None:
    guide = (ROOT / "docs" / "adapters.md").read_text(encoding="utf-8")
    assert re.search(r"\[values-and-codes\.md\]\(values-and-codes\.md\)", guide)
