"""Golden output: the bundled sample, built for a fixed date, must match the committed copy.

After an intended change to the templates or a stage, regenerate the copy and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

import datetime as dt
import os
from pathlib import Path

import pytest

from digest.config import Settings
from digest.pipeline import build_issue, sample_feed

GOLDEN = Path(__file__).parent / "golden" / "sample"
FILES = ("issue.json", "email.html", "email.txt")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = Settings(issues_dir=tmp_path_factory.mktemp("golden") / "issues")
    return build_issue(settings, date=dt.date(2026, 11, 26)).folder


@pytest.mark.parametrize("name", FILES)
def test_sample_matches_the_golden_copy(built: Path, name: str) -> None:
    # Stories name their source: the sample's path differs between checkouts.
    produced = (built / name).read_text(encoding="utf-8").replace(sample_feed(), "SAMPLE")
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(produced, encoding="utf-8")
    assert produced == golden.read_text(encoding="utf-8"), (
        f"{name} differs from tests/golden/sample/{name}; if the change is intended, "
        "regenerate with UPDATE_GOLDEN=1 (see this module's docstring) and review the diff"
    )
