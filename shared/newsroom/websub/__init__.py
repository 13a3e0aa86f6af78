"""WebSub (W3C Recommendation, https://www.w3.org/TR/websub/): sources whose publisher offers a hub
are pushed to us. Discovery of the hub and topic in a fetched feed, the subscriptions we ask
for (secrets, leases, renewal), the callback's rules (intent verification, signed deliveries),
and when a pushed source may poll less.

May import: core, fetch, sources, store.
"""
