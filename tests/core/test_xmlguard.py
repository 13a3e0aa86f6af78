"""The bounded XML pre-scan (`newsroom.core.xmlguard`) on its own: what it accepts, what it refuses,
and that it stays linear and small whatever the prolog holds."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

import pytest

from newsroom.core.xmlguard import MAX_PROLOG_MARKUP_BYTES, HostileXml, check_xml
from newsroom.fetch.feeds import FeedParseError, parse_feed

ROOT = b'<rss version="2.0"><channel><title>t</title></channel></rss>'


def peak_bytes_of(call: object) -> int:
    tracemalloc.start()
    try:
        call()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "prolog",
    [
        b"",
        b'<?xml version="1.0" encoding="utf-8"?>\n',
        b'\xef\xbb\xbf<?xml version="1.0"?><?xml-stylesheet href="a.xsl" type="text/xsl"?>',
        b'<!-- see <a href="x">here</a>, or <!DOCTYPE in a comment -->\n',
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.example/rss-0.91.dtd">',
        b"<!DOCTYPE rss [ <!ELEMENT rss ANY> <!ATTLIST rss version CDATA '>2.0<' > <!-- <x --> <?pi <y ?> ]>",
        b"\n" * 1_000_000,
    ],
    ids=["none", "declaration", "BOM and stylesheet", "comment with markup", "external DTD", "subset", "1 MB blank"],
)
def test_well_formed_prologs_pass_and_the_first_element_is_found(prolog: bytes) -> None:
    assert check_xml(prolog + ROOT) == len(prolog)


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE rss [<!ENTITY a "b">]>' + ROOT,
        b'<!doctype rss [<!entity a "b">]>' + ROOT,
        b"<!-- <!ENTITY a 'b'> -->\n<!DOCTYPE rss>" + ROOT,  # feedparser's regex would find it
        b"<!DOCTYPE rss SYSTEM '\n<!ENTITY a \"b\">'>" + ROOT,
        b"<!DOCTYPE rss [ %ext; ]>" + ROOT,
        b"<!DOCTYPE rss [ <!ATTLIST rss %ext; > ]>" + ROOT,
        b"stray text <!DOCTYPE rss [<!ENTITY a 'b'>]>" + ROOT,  # ill-formed: decided on the whole document
        b"<!-- unterminated <!ENTITY a 'b'>" + ROOT,
        '<!DOCTYPE rss [<!ENTITY a "b">]>'.encode("utf-16-le") + ROOT.decode().encode("utf-16-le"),
        ('<!DOCTYPE rss [<!ENTITY a "b">]>' + ROOT.decode()).encode("utf-32"),
    ],
    ids=[
        "declared",
        "lower case",
        "in a comment",
        "in a literal",
        "parameter reference",
        "reference in a declaration",
        "ill-formed",
        "unterminated comment",
        "UTF-16 without BOM",
        "UTF-32",
    ],
)
def test_any_entity_declaration_or_parameter_reference_is_refused(document: bytes) -> None:
    with pytest.raises(HostileXml):
        check_xml(document)


def test_an_ill_formed_prolog_without_declarations_is_left_to_the_parser() -> None:
    assert check_xml(b"<html><body>not a feed</body></html>") == 0
    assert check_xml(b"garbage before <rss/>") == -1
    assert check_xml(b"<!-- never closed <rss/>") == -1


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!--" + b"<a " * (MAX_PROLOG_MARKUP_BYTES // 3 + 1) + b"-->",
        b"<?pad " + b"x" * (MAX_PROLOG_MARKUP_BYTES + 1) + b"?>",
        b"<!-- short -->" * (MAX_PROLOG_MARKUP_BYTES // 14 + 1),
        b"<!DOCTYPE rss SYSTEM '" + b"x" * 2 * MAX_PROLOG_MARKUP_BYTES,  # unterminated and over budget
    ],
    ids=["one long comment", "one long PI", "many comments", "unterminated literal"],
)
def test_a_prolog_over_its_budget_is_refused_without_reading_on(prolog: bytes) -> None:
    document = prolog + b"\n" + ROOT + b" " * 3_000_000

    def refused() -> None:
        with pytest.raises(HostileXml, match="refused: the prolog holds more than"):
            check_xml(document)

    # The scan holds no copy of the document: its memory is independent of the 3 MB tail.
    assert peak_bytes_of(refused) < 100_000


def test_utf7_declarations_are_refused_where_feedparser_decodes_them() -> None:
    # Bytes that hide "<!ENTITY" from a byte-level scan; feedparser decodes UTF-7 when declared,
    # and the guard it runs on its decoded text refuses it.
    hidden = '<!DOCTYPE rss [<!ENTITY a "' + "A" * 1_000 + '">]>'
    document = b'<?xml version="1.0" encoding="utf-7"?>' + hidden.encode("utf-7") + ROOT.replace(b"t<", b"&a;<", 1)

    with pytest.raises(FeedParseError) as caught:
        parse_feed(document, source_id="x", base_url="https://a.example/f", fetched_at=datetime(2026, 1, 1, tzinfo=UTC))

    assert caught.value.reason == "hostile-xml"


def test_opml_from_outside_gets_the_same_pre_scan_in_any_encoding() -> None:
    from devtools.backfill import opml_feeds
    from newsroom.sources.opml import OpmlError, from_opml

    declared = (
        '<!DOCTYPE opml [<!ENTITY a "'
        + "x" * 1_000
        + '">]><opml><body><outline xmlUrl="https://a.example/&a;"/></body></opml>'
    )
    for document in (declared.encode("utf-8"), declared.encode("utf-16")):
        with pytest.raises(OpmlError, match="entity"):
            from_opml(document)
        with pytest.raises(HostileXml):
            opml_feeds(document)
    # A DOCTYPE without declarations is still refused by the importer, in UTF-16 as well.
    with pytest.raises(OpmlError, match="DOCTYPE"):
        from_opml("<!DOCTYPE opml><opml><body/></opml>".encode("utf-16"))
