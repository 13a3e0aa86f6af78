"""WebSub subscriptions: one item per source (`WEBSUB#<source id>`, SK `SUB`), and its hub secret
in a partition of its own (`WEBSUBKEY#<source id>`, SK `KEY`), see `keys`.

The subscription holds the hub, the topic, the callback token (the unguessable part of the
callback URL), its state and lease. The `hub.secret` the hub signs deliveries with lives only in
its own item: never in a log, a response or the environment, and out of reach of the API's
role (IAM `dynamodb:LeadingKeys`), which reads subscriptions for `/sources`.

The callback finds a subscription by source id (from its URL) in one GetItem and compares the
token in constant time; the fetcher reads them in one BatchGetItem per 100, and `/sources` in the
same BatchGetItem as the source states (`get_source_states_and_subscriptions`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsroom.core.models import SourceState, iso, parse_iso
from newsroom.store.batches import StoreIncomplete, batch_get
from newsroom.store.keys import HUB_SECRET_PREFIX, SUBSCRIPTION_PREFIX, string_attr
from newsroom.store.sources import SourceItems, source_of_state_key, state_from_item, state_key

# The life of a subscription (WebSub sections 5.1-5.3):
#   subscribing    asked the hub; waiting for its intent verification (GET to the callback)
#   active         verified, with a lease; deliveries are accepted
#   unsubscribing  asked the hub to end it (the source was disabled or removed)
#   ended          the hub verified the unsubscription, the lease lapsed, or we gave up
#   denied         the hub refused it (hub.mode=denied, 5.2) or answered the request with an error
STATES = frozenset({"subscribing", "active", "unsubscribing", "ended", "denied"})


@dataclass(frozen=True, slots=True)
class Subscription:
    source_id: str
    hub: str
    topic: str
    token: str  # the unguessable path segment of the callback URL
    state: str
    requested_at: datetime
    requested_lease_seconds: int
    lease_expires: datetime | None = None
    verified_at: datetime | None = None
    last_delivery: datetime | None = None
    deliveries: int = 0
    ignored_deliveries: int = 0  # unsigned, mis-signed or unusable: acknowledged, not used
    last_error: str | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown subscription state {self.state!r}")


def _when(value: datetime | None) -> str | None:
    return iso(value) if value else None


def _to_item(sub: Subscription) -> dict[str, Any]:
    doc = {
        "source_id": sub.source_id,
        "hub": sub.hub,
        "topic": sub.topic,
        "token": sub.token,
        "state": sub.state,
        "requested_at": iso(sub.requested_at),
        "requested_lease_seconds": sub.requested_lease_seconds,
        "lease_expires": _when(sub.lease_expires),
        "verified_at": _when(sub.verified_at),
        "last_delivery": _when(sub.last_delivery),
        "deliveries": sub.deliveries,
        "ignored_deliveries": sub.ignored_deliveries,
        "last_error": sub.last_error,
    }
    return {
        "PK": string_attr(f"{SUBSCRIPTION_PREFIX}{sub.source_id}"),
        "SK": string_attr("SUB"),
        "doc": string_attr(json.dumps(doc, sort_keys=True)),
    }


def _from_item(item: dict[str, Any]) -> Subscription:
    doc = json.loads(item["doc"]["S"])

    def when(key: str) -> datetime | None:
        return parse_iso(doc[key]) if doc.get(key) else None

    return Subscription(
        source_id=doc["source_id"],
        hub=doc["hub"],
        topic=doc["topic"],
        token=doc["token"],
        state=doc["state"],
        requested_at=parse_iso(doc["requested_at"]),
        requested_lease_seconds=int(doc["requested_lease_seconds"]),
        lease_expires=when("lease_expires"),
        verified_at=when("verified_at"),
        last_delivery=when("last_delivery"),
        deliveries=int(doc.get("deliveries", 0)),
        ignored_deliveries=int(doc.get("ignored_deliveries", 0)),
        last_error=doc.get("last_error"),
    )


class SubscriptionItems(SourceItems):
    # Over `SourceItems`: `/sources` reads states and subscriptions in one BatchGetItem, with the
    # states' legacy fallback (`SourceItems._with_legacy`).
    def get_subscription(self, source_id: str) -> Subscription | None:
        # Strongly consistent: a hub verifies intent within moments of our request, and an
        # eventually consistent read could still miss the item just written.
        resp = self._db.get_item(
            TableName=self._table,
            Key=_sub_key(source_id),
            ConsistentRead=True,
        )
        item = resp.get("Item")
        return _from_item(item) if item else None

    def get_subscriptions(self, source_ids: Sequence[str]) -> dict[str, Subscription]:
        """The subscription of each source that has one (a source left unread raises
        `StoreIncomplete`, as for source states)."""
        return self._per_source(source_ids, "SUB", SUBSCRIPTION_PREFIX, _from_item, _subscribed_source)

    def get_source_states_and_subscriptions(
        self, source_ids: Sequence[str]
    ) -> tuple[dict[str, SourceState], dict[str, Subscription]]:
        """`get_source_states` and `get_subscriptions` in the same BatchGetItem (two keys per
        source, one call per 50 sources; `batch_get` pages and follows unprocessed keys): what
        `/sources` shows. Never a hub secret: those live under their own prefix. A state or
        subscription left unread raises `StoreIncomplete` (missing: those source ids; partial:
        the states that were read), as either read alone does."""
        unique = list(dict.fromkeys(source_ids))
        keys = [key for i in unique for key in (state_key(i), _sub_key(i))]
        unread: list[str] = []
        operation = "BatchGetItem"
        try:
            items = batch_get(self._db, self._table, keys)
        except StoreIncomplete as exc:
            items = list(exc.partial.values())
            unread = list(dict.fromkeys(_source_of_key_name(name) for name in exc.missing))
            operation = exc.operation
        states: dict[str, SourceState] = {}
        subs: dict[str, Subscription] = {}
        for item in items:
            if item["PK"]["S"].startswith(SUBSCRIPTION_PREFIX):
                sub = _from_item(item)
                subs[sub.source_id] = sub
            else:
                state = state_from_item(item)
                states[state.source_id] = state
        failure = self._with_legacy(unique, states, unread, operation)
        if failure.missing:
            raise failure
        return states, subs

    def put_subscription(self, sub: Subscription) -> None:
        self._db.put_item(TableName=self._table, Item=_to_item(sub))

    def get_hub_secret(self, source_id: str) -> str | None:
        resp = self._db.get_item(TableName=self._table, Key=_secret_key(source_id), ConsistentRead=True)
        item = resp.get("Item")
        return item["secret"]["S"] if item else None

    def delete_hub_secret(self, source_id: str) -> None:
        """When the subscription ends for good (the source disabled or removed by an operator)."""
        self._db.delete_item(TableName=self._table, Key=_secret_key(source_id))

    def put_hub_secret(self, source_id: str, secret: str) -> None:
        """Written before the hub is asked (it may verify, and deliver, at once)."""
        self._db.put_item(TableName=self._table, Item={**_secret_key(source_id), "secret": string_attr(secret)})


def _sub_key(source_id: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"{SUBSCRIPTION_PREFIX}{source_id}"), "SK": string_attr("SUB")}


def _source_of_key_name(name: str) -> str:
    """The source id in a state's or a subscription's key name ("PK|SK")."""
    if name.startswith(SUBSCRIPTION_PREFIX):
        return name.removeprefix(SUBSCRIPTION_PREFIX).removesuffix("|SUB")
    return source_of_state_key(name)


def _secret_key(source_id: str) -> dict[str, dict[str, str]]:
    return {"PK": string_attr(f"{HUB_SECRET_PREFIX}{source_id}"), "SK": string_attr("KEY")}


def _subscribed_source(sub: Subscription) -> str:
    return sub.source_id
