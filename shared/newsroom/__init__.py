"""The newsroom backend: feeds in, stories out.

The packages are the pipeline, in the order an entry travels through it:

    sources/  which feeds exist and when each is due (the file, the registry, OPML, the schedule)
    fetch/    polite HTTP, feed parsing, full text, the dispatcher's fan-out and the poll itself
    websub/   pushed feeds: hub discovery, subscriptions, the callback's verification and deliveries
    process/  one entry becomes an article: build, classify, attribute, fingerprint, dedupe
    store/    DynamoDB, one module per item family, plus the in-memory store held to one contract
    serve/    the read-only API: routes, HTTP caching, JSON/JSON Feed/RSS/Atom, HTML pages
    prices/   the ticker: providers, the fallback choice and the price board
    core/     the vocabulary every stage shares (models, config, URLs, text, HTML, wire formats)
    wiring/   builds what each Lambda handler needs from config and AWS clients

Each package's `__init__` says what it may import; tests/test_architecture.py holds them to it.
"""
