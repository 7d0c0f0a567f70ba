"""The wheel carries the templates, the wording catalogs and the bundled sample, and works outside
the repository."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("digest-*.whl")
    return built


def test_wheel_contains_templates_and_sample(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "digest/templates/newsletter.mjml.j2" in names
    assert "digest/templates/newsletter.txt.j2" in names
    assert "digest/sample/feed.xml" in names
    assert "digest/sample/images/harbour-talks.jpg" in names
    assert "digest/locale/de.po" in names


def test_installed_wheel_builds_the_sample_anywhere(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["PYTHONPATH"] = str(target)
    where = subprocess.run(
        [sys.executable, "-c", "import digest; print(digest.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target))
    run = subprocess.run(
        [sys.executable, "-m", "digest", "build", "--date", "2026-11-26"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    folder = elsewhere / "issues" / "2026-11-26"
    assert run.stdout.strip() == str(Path("issues") / "2026-11-26" / "email.html")
    assert (folder / "images" / "harbour-talks.jpg").exists()
    assert "Valdoria" in (folder / "email.html").read_text()
