"""The pages under their Content-Security-Policy, enforced by headless Chromium (issue 14).

Each page is loaded with a `securitypolicyviolation` listener installed before any of its own
content (DevTools scripts are not subject to the page's policy), and the console is read too:
a page must render with its stylesheet applied and no violation at all. Two controls show the
policy is really in force: an inline `<style>` added to a loaded page is refused, and a page
that frames ours gets an error page in the frame (`frame-ancestors 'none'`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from newsroom.serve.security import PAGE_CSP
from tests.browser.conftest import Site
from tests.browser.test_pages_http import SEED_TITLE, story_id

LISTENER = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
    "{directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample}));"
)


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    """The browser with the violation listener on every new document (removed afterwards: the
    browser is shared by the package's tests)."""
    added = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTENER})
    browser.get_log("browser")  # drop what earlier tests left in the console
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]})


def csp_messages(browser: Any) -> list[str]:
    messages = [str(entry["message"]) for entry in browser.get_log("browser")]
    return [message for message in messages if "Content Security Policy" in message]


def test_every_page_renders_with_its_csp_enforced_and_no_violation(site: Site, watched: Any) -> None:
    article_id = story_id(site, SEED_TITLE)
    pages = {
        "home": "/",
        "category": "/category/policy",
        "article": f"/articles/{article_id}",  # negotiated: the same page as /news/<slug>
        "not found": "/news/no-story-here",
    }
    for name, path in pages.items():
        status, headers, _ = site.get(path)
        assert headers["Content-Security-Policy"] == PAGE_CSP, name
        assert status == (404 if name == "not found" else 200), name
        watched.get(f"{site.base_url}{path}")
        state = watched.execute_script(
            "const list = document.querySelector('.ticker-list');"
            "return {violations: window.__csp,"
            " sheets: Array.from(document.styleSheets).map(s => s.cssRules.length),"
            " tickerDisplay: list ? getComputedStyle(list).display : null,"
            " bodyMargin: getComputedStyle(document.body).marginTop,"
            " scripts: document.scripts.length};"
        )
        assert state["violations"] == [], (name, state["violations"])
        assert csp_messages(watched) == [], name
        # The one stylesheet loaded and applies: the ticker is a flex row, as site.css says.
        assert len(state["sheets"]) == 1 and state["sheets"][0] > 10, (name, state)
        assert state["tickerDisplay"] == "flex", (name, state)
        assert state["scripts"] == 0, name


def test_the_policy_is_in_force_inline_style_is_refused_and_framing_is_blocked(site: Site, watched: Any) -> None:
    watched.get(f"{site.base_url}/")
    colour = watched.execute_script(
        "const style = document.createElement('style');"
        "style.textContent = 'body { color: rgb(1, 2, 3) !important; }';"
        "document.head.appendChild(style);"
        "return getComputedStyle(document.body).color;"
    )
    assert colour != "rgb(1, 2, 3)"
    violations = watched.execute_script("return window.__csp")
    assert [v["directive"] for v in violations] == ["style-src-elem"], violations

    # A page elsewhere that frames ours gets nothing: the browser puts its own error page in
    # the frame instead (frame-ancestors 'none', and X-Frame-Options: DENY for older browsers).
    watched.get(f"data:text/html,<iframe src='{site.base_url}/'></iframe>")
    framed: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not framed.get("href", "").startswith("chrome-error:"):
        time.sleep(0.2)
        watched.switch_to.frame(0)
        framed = watched.execute_script(
            "return {href: location.href, ours: document.querySelector('.masthead') !== null};"
        )
        watched.switch_to.default_content()
    assert framed == {"href": "chrome-error://chromewebdata/", "ours": False}, framed
    # The same page on its own renders (the control for the frame).
    watched.get(f"{site.base_url}/")
    assert watched.execute_script("return document.querySelector('.masthead') !== null")
