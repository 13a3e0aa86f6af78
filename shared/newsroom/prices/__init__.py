"""The price ticker: the providers (CoinGecko first, Coinbase and Kraken as fallbacks), the
choice between them, and the refresh that writes the price board.

May import: core, fetch, store.
"""
