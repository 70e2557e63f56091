"""Security (issue 12 point 9, RELIABILITY.md §5): no AWS credential in the repository.

Scans every file git tracks, plus new files not yet added (so a key is caught before its
first commit), skipping only binary files. AWS keys are never needed in the repository:
boto3's default credential chain supplies them at run time.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Key ids are upper case by definition; the secret's setting name in any case (env or INI).
KEY_PATTERNS = re.compile(rb"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|(?i:aws_secret_access_key)\s*=")


def _repository_files() -> list[Path]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing says which files are the repository's")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def _leaks(data: bytes) -> list[tuple[int, str]]:
    """``(line, matched text)`` of every key-like string; binary data (a NUL byte) is skipped."""
    if b"\0" in data[:8192]:
        return []
    return [
        (data[: m.start()].count(b"\n") + 1, m.group(0).decode(errors="replace"))
        for m in KEY_PATTERNS.finditer(data)
    ]


def test_no_aws_key_patterns_in_the_repository():
    files = _repository_files()
    assert len(files) > 100  # the listing worked: an empty one would pass vacuously
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:8]}…"  # never echo a whole key
        for path in files
        if path.is_file()
        for line, text in _leaks(path.read_bytes())
    ]
    assert found == [], "AWS credentials in the repository: " + ", ".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "AKIA" + "ABCDEFGHIJKLMNOP",
        "token ASIA" + "0123456789ABCDEF in a log",
        "aws_secret_" + "access_key = x",
        "AWS_SECRET_" + "ACCESS_KEY=x",
    ],
)
def test_the_scan_finds_planted_keys(text):
    assert _leaks(f"line one\n{text}\n".encode()) == [
        (2, KEY_PATTERNS.search(text.encode())[0].decode())
    ]


def test_the_scan_skips_binary_files_only():
    assert _leaks(b"\0binary " + b"AKIA" + b"ABCDEFGHIJKLMNOP") == []
    assert _leaks(b"AKIA" + b"abcdefghijklmnop") == []  # lowercase is not an access key id
