"""The read-only API behind API Gateway: the route table, HTTP caching (ETags, compression,
byte-bounded pages), the JSON, JSON Feed, RSS and Atom renderers and the server-rendered pages.

May import: core, sources, store.
"""
