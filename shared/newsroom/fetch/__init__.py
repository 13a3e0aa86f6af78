"""Getting feeds: polite, bounded HTTP, parsing, full text, the dispatcher's fan-out and the poll
of one source (decide what to fetch and what changed, then send the new entries to the queue).

May import: core, sources, store.
"""
