"""The newsroom pages in headless Chromium: what a reader sees, checked against the reference page.

Each test saves a full-page screenshot to test-artifacts/browser/ and runs axe-core in the page
(0 serious or critical violations; colour contrast must be among the rules that passed).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from tests.browser.conftest import Site, screenshot

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "article-page.txt"
SEED_ORIGINAL = "https://defiliban.io/hong-kong-expands-digital-asset-ecosystem-tokenization/"
SYNDICATED_TITLE = "Solana Validators Ship Firedancer Client to Mainnet"
SYNDICATED_ORIGINAL = "https://blockledger.example/news/solana-validators-ship-firedancer-client"
SYNDICATED_COPY = "https://cryptowire.example/2026/05/30/solana-validators-ship-firedancer/"


@dataclass(frozen=True)
class Reference:
    """`../shared/seed/article-page.txt`, field by field, top to bottom."""

    ticker: list[str]
    category: str
    headline: str
    standfirst: str
    byline: str
    date: str
    reading_time: str
    kind: str
    caption: str
    body: list[str]
    disclaimer: str
    credit: str


def reference() -> Reference:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    ticker = lines[:6]
    assert lines[6:12] == ticker  # the reference repeats its marquee list; we render it once
    rest = [line for line in lines[12:] if line.strip()]
    category, headline, standfirst, byline, date, reading, kind, image_title, caption, *body, disclaimer, credit = rest
    assert image_title == headline and disclaimer.startswith("Disclaimer:")
    return Reference(
        ticker, category, headline, standfirst, byline, date, reading, kind, caption, body, disclaimer, credit
    )


REF = reference()


def text(driver: Any, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text).strip()


def reduce_motion(driver: Any, reduce: bool) -> None:
    features = [{"name": "prefers-reduced-motion", "value": "reduce" if reduce else ""}]
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})


def check_accessibility(driver: Any, axe_source: str, artifacts: Path, name: str) -> None:
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done({violations: r.violations, passes: r.passes.map(p => p.id)}),"
        " e => done({error: String(e)}));"
    )
    assert "error" not in result, result
    (artifacts / f"{name}.axe.json").write_text(json.dumps(result["violations"], indent=2))
    blocking = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert blocking == [], json.dumps(blocking, indent=2)
    assert "color-contrast" in result["passes"], "axe did not check contrast"


def save(driver: Any, artifacts: Path, name: str) -> None:
    reduce_motion(driver, True)  # a still ticker: every pair readable in the picture
    shot = screenshot(driver, artifacts / f"{name}.png")
    assert shot.stat().st_size > 10_000


def check_page_head(driver: Any, canonical: str) -> None:
    head = driver.execute_script(
        "const q = s => Array.from(document.querySelectorAll(s));"
        "return {canonical: q('link[rel=canonical]').map(e => e.href),"
        " alternates: q('link[rel=alternate]').map(e => e.type),"
        " og: Object.fromEntries(q('meta[property^=\"og:\"]').map(e => [e.getAttribute('property'), e.content])),"
        " landmarks: ['header', 'nav', 'main', 'footer'].filter(t => document.querySelector(t)),"
        " lang: document.documentElement.lang};"
    )
    assert head["canonical"] == [canonical]
    assert sorted(head["alternates"]) == ["application/atom+xml", "application/feed+json", "application/rss+xml"]
    assert {"og:title", "og:type", "og:url", "og:description", "og:site_name"} <= set(head["og"])
    assert head["landmarks"] == ["header", "nav", "main", "footer"]
    assert head["lang"] == "en"


def test_home_page_shows_the_ticker_once_and_each_story_once(
    site: Site, browser: Any, axe_source: str, artifacts: Path
) -> None:
    reduce_motion(browser, False)
    browser.get(f"{site.base_url}/")
    # Six pairs with the reference's values, in one list (part of it is off screen while it scrolls).
    pairs = [
        " ".join(li.get_attribute("textContent").split())
        for li in browser.find_elements(By.CSS_SELECTOR, "li.ticker-item")
    ]
    assert pairs == REF.ticker
    assert len(browser.find_elements(By.CSS_SELECTOR, ".ticker-list")) == 1

    # The ticker moves, by CSS alone (the page has no script).
    ticker = browser.find_element(By.CSS_SELECTOR, ".ticker-list")
    assert browser.execute_script("return getComputedStyle(arguments[0]).animationName", ticker) == "ticker"
    assert browser.execute_script("return document.scripts.length") == 0
    x0 = browser.execute_script("return arguments[0].getBoundingClientRect().x", ticker)
    time.sleep(0.5)
    x1 = browser.execute_script("return arguments[0].getBoundingClientRect().x", ticker)
    assert x1 < x0 - 5, (x0, x1)
    reduce_motion(browser, True)  # readers who ask for less motion get a still, wrapped list
    assert browser.execute_script("return getComputedStyle(arguments[0]).animationName", ticker) == "none"
    assert [str(li.text) for li in browser.find_elements(By.CSS_SELECTOR, "li.ticker-item")] == REF.ticker

    stored = [a["title"] for a in site.articles()]
    shown = [str(a.text) for a in browser.find_elements(By.CSS_SELECTOR, ".stories .story-title a")]
    assert Counter(shown) == Counter(stored) and len(stored) == 6  # copies never appear as stories
    assert all(n == 1 for n in Counter(shown).values())
    categories = [str(a.text) for a in browser.find_elements(By.CSS_SELECTOR, "nav .categories a")]
    assert categories == ["Policy", "Markets", "DeFi", "Technology", "Business", "Security"]
    check_page_head(browser, f"{site.base_url}/")
    save(browser, artifacts, "home")
    check_accessibility(browser, axe_source, artifacts, "home")


def test_seed_story_page_shows_every_reference_field_top_to_bottom(
    site: Site, browser: Any, axe_source: str, artifacts: Path
) -> None:
    browser.get(f"{site.base_url}/")
    browser.find_element(By.LINK_TEXT, REF.headline).click()  # a reader's way in
    assert "/news/hong-kong-expands-digital-asset-ecosystem-" in browser.current_url

    fields = [
        (".ticker-list", "\n".join(REF.ticker)),
        (".story-page .category", REF.category),
        ("h1.headline", REF.headline),
        (".story-page .standfirst", REF.standfirst),
        (".byline .author", "Anonymous"),
        (".byline .desk", "CryptoCompass newsroom"),
        (".meta .published", REF.date),
        (".meta .reading-time", REF.reading_time),
        (".story-page .kind", REF.kind),
        (".lead-image figcaption", REF.caption),
        (".story-page .body", "\n".join(REF.body)),
        (".story-page .disclaimer", REF.disclaimer),
        (".story-page .credit", REF.credit),
    ]
    reduce_motion(browser, True)  # one row of pairs, so the ticker's text reads one pair per line
    tops = []
    for css, expected in fields:
        element = browser.find_element(By.CSS_SELECTOR, css)
        shown = str(element.text).strip()
        if css in (".ticker-list", ".story-page .body"):  # block by block: each pair, each paragraph
            shown = "\n".join(str(child.text) for child in element.find_elements(By.XPATH, "./*"))
        assert shown == expected, css
        assert element.is_displayed(), css
        tops.append(browser.execute_script("return arguments[0].getBoundingClientRect().top + scrollY", element))
    assert tops == sorted(tops), list(zip([f[0] for f in fields], tops, strict=True))
    byline = browser.find_element(By.CSS_SELECTOR, ".byline").get_attribute("textContent")
    assert byline == REF.byline  # "AnonymousCryptoCompass newsroom", as the reference's text runs

    credit = browser.find_element(By.CSS_SELECTOR, ".credit a")
    assert credit.get_attribute("href") == SEED_ORIGINAL
    assert text(browser, ".copies") == "Also published by Crypto Wire Daily"
    visual = browser.find_element(By.CSS_SELECTOR, ".lead-image [role=img]")
    assert visual.get_attribute("aria-label") == "CryptoCompass editorial illustration for Policy news"
    assert browser.find_element(By.CSS_SELECTOR, ".category a").get_attribute("href").endswith("/category/policy")
    # The machine-readable instant behind "May 31, 2026" (its hour depends on whether the
    # original or the syndicated copy was processed first; the date is the same).
    assert browser.find_element(By.CSS_SELECTOR, "time.published").get_attribute("datetime").startswith("2026-05-31T")
    check_page_head(browser, SEED_ORIGINAL)
    assert browser.title == f"{REF.headline} | CryptoCompass"
    save(browser, artifacts, "article-seed")
    check_accessibility(browser, axe_source, artifacts, "article-seed")


def test_syndicated_story_credits_and_links_its_original(
    site: Site, browser: Any, axe_source: str, artifacts: Path
) -> None:
    article_id = next(a["id"] for a in site.articles() if a["title"] == SYNDICATED_TITLE)
    # /articles/{id} from a browser is the page itself (Chromium sends Accept: text/html).
    browser.get(f"{site.base_url}/articles/{article_id}")
    assert text(browser, "h1.headline") == SYNDICATED_TITLE
    credit = browser.find_element(By.CSS_SELECTOR, ".credit a")
    assert credit.text == "Read original article on blockledger.example"
    assert credit.get_attribute("href") == SYNDICATED_ORIGINAL
    copy = browser.find_element(By.CSS_SELECTOR, ".copies a")
    assert (copy.text, copy.get_attribute("href")) == ("Crypto Wire Daily", SYNDICATED_COPY)
    check_page_head(browser, SYNDICATED_ORIGINAL)
    image = browser.find_element(By.CSS_SELECTOR, ".lead-image img")
    assert image.get_attribute("src") == "https://blockledger.example/images/firedancer.jpg"
    assert image.get_attribute("alt")
    body = text(browser, ".story-page .body")
    assert "appeared first on" not in body  # the syndication footer became the credit line
    assert text(browser, ".disclaimer") == REF.disclaimer
    save(browser, artifacts, "article-syndicated")
    check_accessibility(browser, axe_source, artifacts, "article-syndicated")


def test_category_page_from_the_navigation(site: Site, browser: Any, axe_source: str, artifacts: Path) -> None:
    browser.get(f"{site.base_url}/")
    browser.find_element(By.CSS_SELECTOR, "nav").find_element(By.LINK_TEXT, "Policy").click()
    assert browser.current_url == f"{site.base_url}/category/policy"
    assert text(browser, "h1") == "Policy news"
    assert browser.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text == "Policy"
    shown = [str(a.text) for a in browser.find_elements(By.CSS_SELECTOR, ".stories .story-title a")]
    assert shown == [a["title"] for a in site.articles() if a["category"] == "Policy"]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".ticker-list > li")) == 6
    save(browser, artifacts, "category-policy")
    check_accessibility(browser, axe_source, artifacts, "category-policy")


def test_event_parts_read_well_and_pass_axe(site: Site, browser: Any, axe_source: str, artifacts: Path) -> None:
    """ "Top stories" with "+N sources" and "Also reported by", rendered (`event_pages`) and
    written into a page of the site's origin, so its stylesheet applies as it would."""
    from tests.browser.conftest import event_pages

    for name, html in event_pages(site).items():
        browser.get(f"{site.base_url}/")
        browser.execute_script("document.open(); document.write(arguments[0]); document.close();", html)
        browser.execute_script("return document.fonts.ready")
        assert browser.execute_script("return document.styleSheets.length") >= 1
        if name == "home-events":
            assert text(browser, ".top-events h2") == "Top stories"
            assert text(browser, ".top-events .more-sources") == "+2 sources"
        else:
            items = [str(li.text) for li in browser.find_elements(By.CSS_SELECTOR, ".also-reported li")]
            assert len(items) == 3 and items[-1] == "Scripted Outlet: Not a link"
            assert 'alert("x")' in items[1]  # shown as text, never run
            links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".also-reported a")]
            assert links[-1] == "https://hostile.example/a?x=1&y=2" and len(links) == 2
        save(browser, artifacts, name)
        check_accessibility(browser, axe_source, artifacts, name)
