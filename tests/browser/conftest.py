"""The local stack served over real HTTP on 127.0.0.1, and a headless Chromium to read it.

`site` runs the bundled pipeline once for this package (moto for AWS with the table and queues from
template.yaml, the sample feeds and price API on loopback, the real handlers), then serves
the `ApiFunction` handler behind the local API Gateway (`devtools.apigw`, the template's stage,
routes and binary media types), as `make run` does. `browser` is Debian's chromium
driven by Selenium through Debian's matching chromedriver.

The browser, Java (for the Nu checker) and axe-core come from `scripts/install-browser-deps.sh`
(`make test` runs it). When one is missing a test skips on a developer's machine and FAILS
under CI=true, so CI can never pass by not running them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import apigw
from devtools.lambda_local import drain_queue, invoke, load_event, load_handler_module
from devtools.stack import local_stack
from newsroom.wiring import clients as runtime

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NEWSROOM_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
AXE_JS = Path(
    os.environ.get(
        "AXE_CORE_JS",
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "newsroom-browser/node_modules/axe-core/axe.min.js",
    )
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    # Every host but loopback resolves to nothing: a page can never reach the internet from a test.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def require(condition: bool, what: str) -> None:
    """Skip locally, fail in CI: a CI run must never go green by not running the browser tests."""
    if condition:
        return
    message = f"{what} is missing; run scripts/install-browser-deps.sh (as root for apt-get)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Site:
    base_url: str

    def get(self, path: str, accept: str = "text/html") -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(f"{self.base_url}{path}", headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode()

    def articles(self) -> list[dict[str, Any]]:
        import json

        _, _, body = self.get("/articles?limit=100", accept="application/json")
        items: list[dict[str, Any]] = json.loads(body)["items"]
        return items


@pytest.fixture(scope="package")
def site() -> Iterator[Site]:
    tmp = Path(tempfile.mkdtemp(prefix="newsroom-pages-"))
    with pytest.MonkeyPatch.context() as mp, local_stack(mp.setenv, tmp) as stack:
        resources, sqs = stack.resources, stack.sqs
        try:
            fetched = invoke(load_handler_module("fetch_feeds"), load_event("fetch_feeds_schedule"))
            assert fetched["entries"] > 0
            report = drain_queue(sqs, resources.queue_url, resources.queue_arn, load_handler_module("process_articles"))
            assert report.failed == 0
            invoke(load_handler_module("fetch_prices"), load_event("fetch_prices_schedule"))
            served = apigw.serve_module(load_handler_module("api")).start()
            # Links name the stage, as they do on the execute-api host (`make run` does the same).
            mp.setenv("PUBLIC_BASE_URL", served.base_url)
            runtime.settings.cache_clear()
            try:
                yield Site(served.base_url)
            finally:
                served.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(Path(CHROMIUM).exists(), f"chromium ({CHROMIUM})")
    require(Path(CHROMEDRIVER).exists(), f"chromedriver ({CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="newsroom-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # The console, for what the page logs itself (Content-Security-Policy violations among it).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Giving the driver's path keeps Selenium Manager (which would download drivers) out of it.
    service = Service(executable_path=CHROMEDRIVER, log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def axe_source() -> str:
    require(AXE_JS.is_file(), f"axe-core ({AXE_JS})")
    return AXE_JS.read_text(encoding="utf-8")


def screenshot(driver: Any, path: Path) -> Path:
    """The whole page, not just the viewport (Chromium's DevTools capture beyond the viewport)."""
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


# Text no page may show as markup: a member's title as an outlet might write it.
HOSTILE_TITLE = '<script>alert("x")</script> Zentrix & "Co" <b>exploit</b>'


def event_pages(site: Site) -> dict[str, str]:
    """The home page leading with a top event of three outlets ("+2 sources") and the seed
    story's page listing that event's other reports ("Also reported by"), rendered by `pages`
    over the site's store: the sample feeds hold no two outlets' reports of one event, and
    the site's stories stay as the other tests expect them. One member's title is hostile, and
    its link carries `&`; another's link is not http(s) and must not become a link."""
    from dataclasses import replace
    from datetime import timedelta

    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from devtools.lambda_local import api_event
    from newsroom.core.config import Settings
    from newsroom.core.events import Event, EventMember
    from newsroom.core.models import Page
    from newsroom.serve import pages

    store = runtime.store()
    items = site.articles()
    seed = next(a for a in items if a["title"].startswith("Hong Kong Expands"))
    other = next(a for a in items if a["id"] != seed["id"])
    stored = store.get_article(seed["id"])
    assert stored is not None
    lead = stored.article
    members = (
        EventMember(lead.id, lead.source_id, lead.source_name, lead.title, lead.canonical_url, lead.published),
        EventMember(
            other["id"],
            other["source"]["id"],
            other["source"]["name"],
            other["title"],
            other["canonical_url"],
            lead.published + timedelta(hours=1),
        ),
        EventMember(
            "0" * 20,
            "hostile",
            "Hostile Outlet",
            HOSTILE_TITLE,
            "https://hostile.example/a?x=1&y=2",
            lead.published + timedelta(hours=2),
        ),
        EventMember(
            "1" * 20,
            "scripted",
            "Scripted Outlet",
            "Not a link",
            "javascript:alert(1)",
            lead.published + timedelta(hours=3),
        ),
    )
    event = Event(
        id=lead.id,
        created=lead.published,
        updated=members[-1].published,
        lead_story_id=lead.id,
        members=members,
        member_count=4,
        outlets=(lead.source_id, other["source"]["id"], "hostile", "scripted"),
        ties=("hong kong",),
    )

    class WithEvent:
        """The site's store, with this event at the top of the "top" listing."""

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def list_events(self, listing: str, *, limit: int, cursor: str | None) -> Page[Event]:
            return Page((replace(event, outlets=event.outlets[:3]),), None)

    request = APIGatewayProxyEvent(api_event("GET", "/", {"Host": "127.0.0.1"}))
    config = Settings.from_env()
    return {
        "home-events": pages.home_page(WithEvent(), config, request),  # type: ignore[arg-type]
        "article-event": pages.article_page(lead, store, config, request, story_event=event),
    }
