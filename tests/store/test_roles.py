"""Role-sized store interfaces (`newsroom.store.roles`): `DynamoStore` satisfies each one, `Store`
is exactly their union, and each role's methods touch only the item families its function's IAM
role may read and write (`keys.READS`, `keys.WRITES`, and template.yaml itself)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any, get_protocol_members

import boto3
import pytest
from moto import mock_aws

from devtools.template import create_table
from newsroom.core.models import FingerprintClaims, Price, ProviderHealth, Source, SourceState, StoredArticle
from newsroom.process.events import lookup_keys, signature
from newsroom.process.grouping import plan_join
from newsroom.store import roles
from newsroom.store.dynamo import DynamoStore
from newsroom.store.events import JoinWrite
from newsroom.store.keys import ITEM_FAMILIES, READS, WRITES
from newsroom.store.rejects import Reject
from newsroom.store.subscriptions import Subscription
from tests.iam import allowed_by_template
from tests.store.test_stories import T0, article

INTERFACES = (
    roles.StoryReader,
    roles.SourceRegistry,
    roles.RegistrySeeding,
    roles.SourceStates,
    roles.PriceBoard,
    roles.ProcessorStore,
    roles.FetcherStore,
    roles.DispatcherStore,
    roles.ApiStore,
    roles.PricesStore,
    roles.AdminStore,
    roles.RejectLog,
    roles.SubscriptionReader,
    roles.SubscriberStore,
    roles.CallbackStore,
    roles.EventResolver,
    roles.EventReader,
    roles.EventWriter,
    roles.Store,
)
ROLES = (
    roles.ProcessorStore,
    roles.FetcherStore,
    roles.DispatcherStore,
    roles.ApiStore,
    roles.PricesStore,
    roles.AdminStore,
    roles.SubscriberStore,
    roles.CallbackStore,
)
# The roles a Lambda function plays, by its name in keys.READS / WRITES and in template.yaml.
FUNCTION_ROLES = {
    "processor": ("ProcessArticlesFunction", roles.ProcessorStore),
    "fetcher": ("FetchFeedsFunction", roles.FetcherStore),
    "subscriber": ("FetchFeedsFunction", roles.SubscriberStore),
    "callback": ("WebSubCallbackFunction", roles.CallbackStore),
    "dispatcher": ("DispatchSourcesFunction", roles.DispatcherStore),
    "api": ("ApiFunction", roles.ApiStore),
    "prices": ("FetchPricesFunction", roles.PricesStore),
}


def members(interface: type) -> frozenset[str]:
    return frozenset(get_protocol_members(interface))


@pytest.mark.parametrize("interface", INTERFACES, ids=lambda i: i.__name__)
def test_dynamo_store_satisfies_every_interface_with_the_same_signatures(interface: type) -> None:
    store = DynamoStore(None, "t", b"k")
    assert isinstance(store, interface)
    for name in members(interface):
        declared = inspect.signature(getattr(interface, name))
        implemented = inspect.signature(getattr(DynamoStore, name))
        assert implemented == declared, f"{interface.__name__}.{name}: {implemented} != {declared}"


def test_store_is_exactly_the_union_of_the_roles_and_dynamo_store_has_nothing_else() -> None:
    union = frozenset().union(*(members(role) for role in ROLES))
    assert members(roles.Store) == union
    public = {name for name, _ in inspect.getmembers(DynamoStore, inspect.isfunction) if not name.startswith("_")}
    assert public == union | members(roles.RejectLog)


def test_each_role_sees_less_than_the_whole_store() -> None:
    for role in ROLES:
        assert members(role) < members(roles.Store), role.__name__


# -- what each role's methods touch -----------------------------------------------------------------

_READ_OPERATIONS = {
    "get_item": "dynamodb:GetItem",
    "query": "dynamodb:Query",
    "batch_get_item": "dynamodb:BatchGetItem",
}
_WRITE_OPERATIONS = {
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "transact_write_items": "dynamodb:TransactWriteItems",
}
# Each action of a transaction is authorized as the single-item action it performs ("Using IAM
# with DynamoDB transactions": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


class RecordingClient:
    """A DynamoDB client that notes every (IAM action, partition key, read or write) it is asked for."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, str, bool]] = []  # (action, partition key, is a write)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if name not in _READ_OPERATIONS and name not in _WRITE_OPERATIONS:
            return target  # `exceptions` and the like

        def call(**kwargs: Any) -> Any:
            self._note(name, kwargs)
            return target(**kwargs)

        return call

    def _note(self, operation: str, kwargs: dict[str, Any]) -> None:
        if operation in ("get_item", "update_item", "delete_item"):
            self.calls.append((_ACTION_OF[operation], kwargs["Key"]["PK"]["S"], operation != "get_item"))
        elif operation == "put_item":
            self.calls.append(("dynamodb:PutItem", kwargs["Item"]["PK"]["S"], True))
        elif operation == "query":
            self.calls.append(("dynamodb:Query", kwargs["ExpressionAttributeValues"][":pk"]["S"], False))
        elif operation == "batch_get_item":
            for request in kwargs["RequestItems"].values():
                self.calls.extend(("dynamodb:BatchGetItem", key["PK"]["S"], False) for key in request["Keys"])
        elif operation == "batch_write_item":
            for requests in kwargs["RequestItems"].values():
                for request in requests:
                    put = request.get("PutRequest")
                    key = put["Item"] if put else request["DeleteRequest"]["Key"]
                    self.calls.append(("dynamodb:BatchWriteItem", key["PK"]["S"], True))
        else:
            for item in kwargs["TransactItems"]:
                (kind, action), *_ = item.items()
                key = action.get("Item") or action["Key"]
                self.calls.append((_TRANSACT_ACTIONS[kind], key["PK"]["S"], kind != "ConditionCheck"))


_ACTION_OF = {**_READ_OPERATIONS, **_WRITE_OPERATIONS}


def family_of(partition_key: str) -> str:
    families = [family for family, pattern in ITEM_FAMILIES.items() if fnmatchcase(partition_key, pattern)]
    assert len(families) == 1, (partition_key, families)
    return families[0]


@dataclass
class World:
    """A table holding one story of each kind a call needs, and a store that records its calls."""

    store: DynamoStore
    client: RecordingClient
    stored: StoredArticle


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        plain = DynamoStore(client, "t", b"k", clock=T0.timestamp)
        plain.claim_fingerprints(article(1).id, FingerprintClaims(("m#01",), T0))
        plain.create_article(article(1), guid=("defiliban", "g1"))
        stored = plain.get_article(article(1).id)
        assert stored is not None
        recording = RecordingClient(client)
        yield World(DynamoStore(recording, "t", b"k", clock=T0.timestamp), recording, stored)


SOURCE = Source(id="defiliban", name="DeFi Liban", feed_url="https://a.example/feed")
PRICE = Price("BTC", "USD", 1.5, -0.5, "coingecko", T0, T0)
CLAIMS = FingerprintClaims(("m#02", "u#03"), T0)
SUBSCRIPTION = Subscription(
    "defiliban", "https://hub.example/", "https://a.example/feed", "t" * 43, "subscribing", T0, 864000
)
# One call of every method a role offers, taking each path that touches another item family.
CALLS: dict[str, Callable[[World], object]] = {
    "get_article": lambda w: w.store.get_article(w.stored.article.id),
    "get_articles": lambda w: w.store.get_articles([w.stored.article.id, "0" * 20]),
    "list_articles": lambda w: w.store.list_articles("all", limit=5, cursor=None),
    "story_for_guid": lambda w: w.store.story_for_guid("defiliban", "g1"),
    "claim_guid": lambda w: w.store.claim_guid("defiliban", "g9", w.stored.article.id),
    "find_fingerprints": lambda w: w.store.find_fingerprints(["m#01", "u#02"], now=T0),
    "claim_fingerprints": lambda w: w.store.claim_fingerprints(article(2).id, CLAIMS),
    "create_article": lambda w: w.store.create_article(article(2), guid=("defiliban", "g2")),
    "list_story": lambda w: w.store.list_story(w.stored.article.id),
    # Moved to another source and another category: listing deletes and both story counts too.
    "replace_article": lambda w: w.store.replace_article(
        w.stored,
        replace(w.stored.article, source_id="cryptowire", coins=("ETH",)),
        guid=("cryptowire", "g1"),
    ),
    "source_story_counts": lambda w: w.store.source_story_counts(["defiliban", "cryptowire"]),
    "count_source_articles": lambda w: w.store.count_source_articles("defiliban"),
    "get_source_states": lambda w: w.store.get_source_states(["defiliban", "other"]),
    "put_source_state": lambda w: w.store.put_source_state(SourceState("defiliban", etag='"x"', seen=b"\x01" * 8)),
    "get_dispatch_clock": lambda w: w.store.get_dispatch_clock(),
    "put_dispatch_clock": lambda w: w.store.put_dispatch_clock(T0),
    "list_sources": lambda w: w.store.list_sources(),
    "get_source": lambda w: w.store.get_source("defiliban"),
    "put_source": lambda w: w.store.put_source(SOURCE),
    "delete_source": lambda w: w.store.delete_source("defiliban"),
    "delete_hub_secret": lambda w: w.store.delete_hub_secret("defiliban"),
    "seed_sources": lambda w: w.store.seed_sources([SOURCE]),
    "get_prices": lambda w: w.store.get_prices(),
    "cursor_codec": lambda w: w.store.cursor_codec().encode("all", "x"),
    "stored_cursor_key": lambda w: w.store.stored_cursor_key(),
    "get_price_board": lambda w: w.store.get_price_board(),
    "put_prices": lambda w: w.store.put_prices([PRICE]),
    "put_provider_health": lambda w: w.store.put_provider_health([ProviderHealth("coingecko", T0, T0)]),
    "price_near": lambda w: w.store.price_near("BTC/USD", T0, timedelta(minutes=30)),
    "put_reject": lambda w: w.store.put_reject(Reject("m-1", "why", "ValueError", False, 2, T0)),
    "get_reject": lambda w: w.store.get_reject("m-1"),
    "delete_reject": lambda w: w.store.delete_reject("m-1"),
    "get_subscription": lambda w: w.store.get_subscription("defiliban"),
    "get_subscriptions": lambda w: w.store.get_subscriptions(["defiliban", "other"]),
    # Issue 19: /sources reads the states and subscriptions in one BatchGetItem.
    "get_source_states_and_subscriptions": lambda w: w.store.get_source_states_and_subscriptions(
        ["defiliban", "other"]
    ),
    "put_subscription": lambda w: w.store.put_subscription(SUBSCRIPTION),
    "get_hub_secret": lambda w: w.store.get_hub_secret("defiliban"),
    "put_hub_secret": lambda w: w.store.put_hub_secret("defiliban", "s" * 64),
    "put_seen": lambda w: w.store.put_seen("defiliban", b"\x02" * 8),
    # Issue 18: the dispatcher's read of every state, one Query of their partition.
    "all_source_states": lambda w: w.store.all_source_states(["defiliban", "other"]),
    # Issue 17: a story's join (lookup items, its event, the listings, the story's event id) and
    # the reads of events.
    "read_event_index": lambda w: w.store.read_event_index(["w:zentrix", "a:12.5m"]),
    "apply_join": lambda w: w.store.apply_join(_join(w), listing_expires_at=int(T0.timestamp()) + 3600),
    "get_events": lambda w: w.store.get_events([w.stored.article.id, "0" * 20]),
    "get_event": lambda w: w.store.get_event(w.stored.article.id),
    "list_events": lambda w: w.store.list_events("top", limit=5, cursor=None),
    "story_event_ids": lambda w: w.store.story_event_ids([w.stored.article.id]),
    "story_signatures": lambda w: w.store.story_signatures([w.stored.article.id, "0" * 20]),
}


def _join(world: World) -> JoinWrite:
    # A story of its own: the join moves its version, which `replace_article`'s sample checks.
    story = article(3)
    world.store.create_article(story, guid=None)
    sig = signature(story)
    keys = lookup_keys(sig) or ("w:sample",)
    return plan_join(story, sig, keys, world.store.read_event_index(keys), {}, {}, now=T0)


def test_every_method_of_every_interface_has_a_sample_call() -> None:
    assert set(CALLS) == members(roles.Store) | members(roles.RejectLog)


def touched(world: World, methods: frozenset[str]) -> list[tuple[str, str, bool]]:
    world.client.calls.clear()
    for name in sorted(methods):
        CALLS[name](world)
    assert world.client.calls, methods
    return list(world.client.calls)


@pytest.mark.parametrize("role", sorted(FUNCTION_ROLES))
def test_a_role_touches_only_the_item_families_its_function_may(world: World, role: str) -> None:
    function, interface = FUNCTION_ROLES[role]
    for action, partition_key, write in touched(world, members(interface)):
        family = family_of(partition_key)
        keys_role = "fetcher" if role == "subscriber" else role  # the fetcher subscribes
        allowed = WRITES[keys_role] if write else READS[keys_role]
        assert family in allowed, f"{interface.__name__} {'writes' if write else 'reads'} {family} ({action})"
        assert allowed_by_template(function, action, partition_key), (function, action, partition_key)


def test_the_reject_log_writes_only_rejects_as_the_processor_may(world: World) -> None:
    calls = touched(world, frozenset({"put_reject", "delete_reject"}))
    assert {(family_of(pk), write) for _, pk, write in calls} == {("reject", True)}
    for action, partition_key, _ in calls:
        assert allowed_by_template("ProcessArticlesFunction", action, partition_key)
