"""Third-party real-world data (publishers' feeds, news pages, bounces, articles with summaries).

It is not ours to redistribute, so it lives in `../shared/data/` beside the checkout (CI has it
there) and is read from there, never copied into the repository. A missing folder fails the test
that asks for it: a skip would hide exactly the inputs these tests exist for."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """The path of `parts` under `../shared/data/`; raises when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: third-party test data is missing (../shared/data beside the checkout)"
        )
    return path
