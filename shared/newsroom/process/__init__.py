"""One queued entry becomes a stored story: build the article (sanitize, text, classify,
attribute), fingerprint it, and decide whether it is new, a copy of a story we hold, or a
replay; then apply that decision to the store.

May import: core, store.
"""
