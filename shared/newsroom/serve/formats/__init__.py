"""Articles as the API's JSON and as JSON Feed 1.1, RSS 2.0 and Atom 1.0 documents.

One module per output: `api_json` (the API's article objects), `jsonfeed`, `rss` and `atom`
(each a `FeedFormat`, the renderer interface of `common`, which the one feed route serves);
`common` holds what every format says alike, `escape` every escaping rule. Pure functions from
`Article` values to dicts and strings; no I/O, no clock.

Rules:
- The API's article JSON carries every field the reference article page shows, pre-formatted
  where the page formats it (`published_display`, `reading_time`, `kind_label`, `credit.line`),
  so a front end never re-derives them. `article_summary_json` is the same object without the
  body and the copies, for listings.
- Every feed item carries the credit line ("Read original article on <domain>") linking the
  credit URL (`urls.credit`: the named site is the linked site, over http(s)): appended to
  the HTML body as its own paragraph, to the plain-text body as its own line, and in the JSON
  Feed `_newsroom` extension. An attributed item's JSON Feed `external_url` is the original's
  URL when the credit links it.
- Source elements describe the feed an item is credited to, as their specs define them: RSS 2.0
  `<source url>` is "the URL of the source's XMLization" (its feed), the element's text the
  channel's name; Atom `<source>` (RFC 4287 §4.2.11) carries that feed's metadata: `<id>` (the
  feed URL, the identity we know it by), `<title type="text">`, `<updated>` and
  `<link rel="self">` to the feed (plus `rel="alternate"` to its home page when known). Since we
  do not keep the source feed's own `<updated>`, the entry's `updated` stands in: the source
  feed changed at least then. The credited feed is the registered source of the original
  (`attribution.original_source_id`) for an attributed item, else the item's own source. An
  original that is not a registered source has no known feed, so its item has no `<source>`
  at all: the credit stays in the body's credit paragraph, and `<link>` is the page we read.
  Nor has a source whose feed URL carries credentials (userinfo, or a query parameter named
  like a key or token: some paid feeds authenticate in the URL), which no output may publish.
- `content_html` is trusted as sanitized upstream (processing); here it is only escaped or
  CDATA-wrapped for the container format, never re-sanitized or altered.
- One escaping rule per format and field. Every value is either plain text (title, standfirst,
  names, credit line) or sanitized HTML (the body), and every output field is either a text
  field or an HTML field. Text into a text field gets the format's own escaping only (a JSON
  string; XML character data): JSON `title`/`summary`/`content_text`, Atom `type="text"`
  (plain text per RFC 4287 §3.1.1: `<script>` there is eight characters, not markup), RSS
  `<title>`, `<category>`, `<dc:creator>`, `<source>`. Text into an HTML field is HTML-escaped
  first (`escape.html_text`), then given the format's escaping: RSS `<description>` (item and
  channel; RSS 2.0 lets it hold entity-encoded HTML and nearly every reader renders it, so a
  standfirst reading "<script>" goes out as `&amp;lt;script&amp;gt;`), JSON Feed `content_html`
  and Atom `type="html"` (the credit paragraph, an excerpt's standfirst). HTML into an HTML
  field is the sanitized body, escaped or CDATA-wrapped once. The text fields that RSS readers
  render as HTML regardless (title, category, creator, source name) are markup-free by
  construction: `process.text_fields_as_text` for feed values, `config`/`opml` for source names.
- XML is written by hand, not through ElementTree, because RSS readers expect the conventional
  prefixes (`content:`, `dc:`, `media:`, `atom:`) and `content:encoded` in CDATA. All user data
  goes through `escape.text`/`escape.attr`, which strip characters XML 1.0 forbids (control
  characters, lone surrogates, U+FFFE/U+FFFF) and escape markup; CDATA sections split any `]]>`
  in the body as `]]]]><![CDATA[>` so the body round-trips byte for byte.
- RSS `<guid isPermaLink="false">` is the article id: our `link` points at the publisher's
  page, whose URL can change (re-canonicalised, or swapped for the original once attribution is
  learned), while the id never does, so readers never see a story twice. Atom uses the same id
  as `urn:newsroom:article:<id>`, an IRI that is stable for the same reason.
- The lead image is Media RSS `media:content` in RSS and Atom alike, `image` in JSON Feed.
- Dates: RSS uses RFC 822 (`email.utils.format_datetime`, GMT), Atom and JSON Feed RFC 3339 in
  UTC with `Z`. The channel/feed "updated" time is the newest article `updated`; an empty Atom
  feed, which still needs one, says 1970-01-01T00:00:00Z rather than read a clock.
"""
