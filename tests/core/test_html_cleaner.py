"""`html.sanitize_html` with one `nh3.Cleaner` built at import (a speedup, issue 16): it gives
what `nh3.clean` with the options passed on every call gave — the code before, kept here as the
reference — on every corpus document and every entry's HTML, with each base URL the processing
step passes and none; and threads sanitizing with different base URLs at once keep their own."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import nh3

from newsroom.core import html as html_module
from newsroom.core.html import sanitize_html


def _url_filter_before(base_url: str | None) -> Callable[[str, str, str], str | None]:
    def url_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return html_module._absolute(value, base_url, html_module._LINK_SCHEMES)
        if tag == "img" and attribute == "src":
            return html_module._absolute(value, base_url, html_module._IMAGE_SCHEMES)
        return value

    return url_filter


def _sanitize_before(html: str, base_url: str | None = None) -> str:
    """`sanitize_html` as it was before 2026-12-03: `nh3.clean` with its options each call."""
    if not html or not html.strip():
        return ""
    cleaned = nh3.clean(
        html,
        tags=set(html_module.ALLOWED_TAGS),
        clean_content_tags=set(html_module.DROPPED_WITH_CONTENT),
        attributes=html_module.ALLOWED_ATTRIBUTES,
        attribute_filter=_url_filter_before(base_url),
        url_schemes=set(html_module._LINK_SCHEMES),
        url_relative=html_module._keep_absolute,
        link_rel=html_module.LINK_REL,
        strip_comments=True,
    )
    cleaned = html_module._IMG_WITHOUT_SRC.sub("", cleaned)
    cleaned = html_module._A_WITHOUT_HREF.sub(r"\1", cleaned)
    return cleaned.strip()


def _fragments() -> list[tuple[str, str | None]]:
    """(HTML, base URL): every corpus document whole, every parsed entry's content and summary
    with its link (as `build_article` passes it), with its feed's URL and with none, the
    synthetic articles' with their links, and hand-made relative, protocol-relative and
    unsafe links."""
    from benchmarks import synthetic
    from devtools import golden
    from newsroom.fetch.feeds import parse_feed
    from tests.process.feed_samples import parsed_documents

    pairs: list[tuple[str, str | None]] = [
        (document.body.decode("utf-8", "replace"), document.source.feed_url) for document in golden.documents()
    ]
    for document, entries in parsed_documents():
        for entry in entries:
            for html in (entry.content_html, entry.summary_html):
                pairs += [(html, entry.link), (html, document.source.feed_url), (html, None)]
    ctx = synthetic.context(range(1, 3))
    for seed in (1, 2):
        feed = parse_feed(
            synthetic.synthetic_feed(seed), source_id=f"s{seed}", base_url="https://x/", fetched_at=ctx.now
        )
        pairs += [(entry.content_html, entry.link) for entry in feed.entries]
    links = '<p><a href="/a">a</a> <a href="b?c=1">b</a> <a href="//h.example/c">c</a> <img src="d.png">'
    links += '<a href="javascript:alert(1)">j</a> <a>none</a> <img src="data:x"> <a href="https://ok.example/">o</a>'
    for base in ("https://site.example/dir/page", "http://other.example", "not a url", "", None):
        pairs.append((links, base))
    return pairs


def test_the_built_cleaner_gives_what_nh3_clean_gave_with_each_call_s_options() -> None:
    pairs = _fragments()
    changed_by_base = 0
    for html, base in pairs:
        expected = _sanitize_before(html, base)
        assert sanitize_html(html, base) == expected, (html[:200], base)
        changed_by_base += expected != _sanitize_before(html, None)
    assert len(pairs) > 5000
    assert changed_by_base > 50  # the base URL reaches the filter in many of them
    sanitize_html('<a href="/x">x</a>', "https://site.example/")
    assert html_module._BASE_URL.get() is None  # the call put the base back


def test_threads_sanitizing_with_different_base_urls_keep_their_own() -> None:
    html = '<p><a href="/x">x</a>' + "<b>padding</b>" * 2000 + '<img src="y.png"></p>'

    def clean(index: int) -> bool:
        base = f"https://site{index}.example/d/"
        return sanitize_html(html, base) == _sanitize_before(html, base)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(clean, range(64)))
    assert re.search(r'href="https://site3\.example/x"', sanitize_html(html, "https://site3.example/d/"))
