"""Which feeds exist and when each is due: the sources file, the registry's rules, OPML imports
and the polling schedule (one home, used by the dispatcher, the fetcher and `/sources`).

May import: core, store.
"""
