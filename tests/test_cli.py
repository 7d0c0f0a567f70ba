"""The `digest` command as a user runs it: a real process, real files, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import digest as digest_package


def digest(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    environment.update(env)
    environment["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_with_no_configuration_uses_the_sample(isolated_environment: Path) -> None:
    run = digest("build", "--date", "2026-11-26", cwd=isolated_environment)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "issues/2026-11-26/email.html"
    assert "Built 2026-11-26: 1 lead + 4 more" in run.stderr


def test_preview_builds_then_rerenders_and_prints_a_file_url(isolated_environment: Path) -> None:
    first = digest("preview", "--date", "2026-11-26", cwd=isolated_environment)
    assert first.returncode == 0, first.stderr
    url = first.stdout.strip()
    assert url == (isolated_environment / "issues/2026-11-26/email.html").as_uri()
    issue_json = isolated_environment / "issues/2026-11-26/issue.json"
    issue_json.write_text(issue_json.read_text().replace('"subject": "', '"subject": "EDITED '))
    second = digest("preview", "--date", "2026-11-26", cwd=isolated_environment)
    assert second.returncode == 0, second.stderr
    assert "EDITED" in (isolated_environment / "issues/2026-11-26/email.eml").read_text()


def test_a_wrong_setting_is_one_line_and_exit_code_2(isolated_environment: Path) -> None:
    run = digest("build", cwd=isolated_environment, DIGEST_MORE_COUNT="lots")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: DIGEST_MORE_COUNT:")


def test_a_missing_source_names_it_and_writes_nothing(isolated_environment: Path) -> None:
    run = digest("build", "--source", "nowhere/feed.xml", cwd=isolated_environment)
    assert run.returncode == 3
    assert "nowhere/feed.xml" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (isolated_environment / "issues").exists() or not any(
        (isolated_environment / "issues").iterdir()
    )


def test_a_bad_date_is_a_usage_error(isolated_environment: Path) -> None:
    run = digest("build", "--date", "26/11/2026", cwd=isolated_environment)
    assert run.returncode == 2
    assert "YYYY-MM-DD" in run.stderr


@pytest.mark.parametrize(
    ("args", "env", "starts"),
    [
        (
            ["build"],
            {"DIGEST_VIEW_ONLINE_URL": "https://x.example/{date}/{token}"},
            "VIEW_ONLINE_URL",
        ),
        (["build"], {"DIGEST_VIEW_ONLINE_URL": "https://x.example/{date}/{"}, "VIEW_ONLINE_URL"),
        (["build"], {"DIGEST_ISSUES_DIR": "notes.txt"}, "ISSUES_DIR"),
        (["schedule", "--next", "3"], {"DIGEST_SCHEDULE": "0 6 31 2 *"}, "SCHEDULE"),
    ],
)
def test_settings_that_cannot_work_are_one_line_not_a_traceback(
    isolated_environment: Path, args: list[str], env: dict[str, str], starts: str
) -> None:
    (isolated_environment / "notes.txt").write_text("mine", encoding="utf-8")
    run = digest(*args, cwd=isolated_environment, **env)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[0].startswith(f"error: DIGEST_{starts}: ")
    assert len(run.stderr.strip().splitlines()) == 1 and run.stdout == ""


def test_a_source_path_with_a_nul_byte_fails_only_that_source(isolated_environment: Path) -> None:
    sample = str(Path(digest_package.__file__).parent / "sample" / "feed.xml")
    sources = json.dumps(["feed\x00.xml", sample])
    run = digest("build", "--date", "2026-11-26", cwd=isolated_environment, DIGEST_SOURCES=sources)
    assert run.returncode == 0, run.stderr
    assert "Could not read 'feed\\x00.xml': a path cannot hold a NUL byte" in run.stderr
    assert "Traceback" not in run.stderr and "Built 2026-11-26" in run.stderr
