"""`devtools.artifact.build_inputs_digest`: the built artifact is reused only while nothing
`sam build` reads has changed."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest

from devtools import artifact
from devtools.artifact import build_inputs_digest


def _tree(root: Path) -> None:
    (root / "functions" / "api").mkdir(parents=True)
    (root / "shared" / "newsroom").mkdir(parents=True)
    (root / "template.yaml").write_text("Resources: {}\n")
    (root / "samconfig.toml").write_text("version = 0.1\n")
    (root / "functions" / "api" / "app.py").write_text("def handler(event, context): ...\n")
    (root / "shared" / "newsroom" / "__init__.py").write_text("")
    (root / "shared" / "requirements.txt").write_text("feedparser==6.0.14\n")


def test_the_digest_follows_every_input_and_ignores_bytecode(tmp_path: Path) -> None:
    tool = Path(sys.executable)
    _tree(tmp_path)
    first = build_inputs_digest(tool, tool, "x86_64", root=tmp_path)
    assert build_inputs_digest(tool, tool, "x86_64", root=tmp_path) == first

    # Bytecode Python leaves beside the code when tests import it: not an input.
    cache = tmp_path / "shared" / "newsroom" / "__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-313.pyc").write_bytes(b"\0\0")
    assert build_inputs_digest(tool, tool, "x86_64", root=tmp_path) == first

    seen = {first}
    for change in (
        lambda: (tmp_path / "shared" / "requirements.txt").write_text("feedparser==6.0.15\n"),
        lambda: (tmp_path / "functions" / "api" / "app.py").write_text("def handler(event, context): 1\n"),
        lambda: (tmp_path / "shared" / "newsroom" / "new.py").write_text(""),
        lambda: (tmp_path / "template.yaml").write_text("Resources: {A: 1}\n"),
        lambda: (tmp_path / "samconfig.toml").write_text(
            "version = 0.1\n[default.build.parameters]\nuse_container = true\n"
        ),
    ):
        change()
        digest = build_inputs_digest(tool, tool, "x86_64", root=tmp_path)
        assert digest not in seen
        seen.add(digest)
    assert build_inputs_digest(tool, tool, "arm64", root=tmp_path) not in seen


def test_a_file_system_that_refuses_hard_links_gets_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "built.py"
    source.write_text("x = 1\n")

    def cross_device(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    artifact._link_or_copy(str(source), str(tmp_path / "copy.py"))
    assert (tmp_path / "copy.py").read_text() == "x = 1\n"
    assert (tmp_path / "copy.py").stat().st_ino != source.stat().st_ino
