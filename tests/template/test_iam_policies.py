"""Least privilege down to key prefixes: each function's DynamoDB statements in template.yaml
allow exactly the item families `shared/newsroom/store/keys.py` declares for its role.

IAM is evaluated by tests/iam.py as AWS documents it for `dynamodb:LeadingKeys`
("Using IAM policy conditions for fine-grained access control", Amazon DynamoDB Developer Guide:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
tests/e2e/test_iam_prefixes.py checks the other direction: every call of a real run is allowed.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from devtools.template import load_template
from newsroom.store.keys import ITEM_FAMILIES, READS, WRITES
from tests.iam import LEADING_KEYS, allowed_by_template, dynamodb_statements, leading_key_patterns

ROLES = {
    "DispatchSourcesFunction": "dispatcher",
    "FetchFeedsFunction": "fetcher",
    "ProcessArticlesFunction": "processor",
    "FetchPricesFunction": "prices",
    "ApiFunction": "api",
    "WebSubCallbackFunction": "callback",
}
WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
# One real partition key per family, as the store's family modules build them.
SAMPLE_KEYS = {
    "story": "ART#0123456789abcdef0123",
    "listing": "LIST#src#defiliban",
    "guid-claim": "GUID#defiliban#0123456789abcdef0123456789abcdef",
    "fingerprint": "FP#m#0123456789abcdef",
    "source-state": "STATES",
    "legacy-source-state": "SOURCE#defiliban",
    "story-count": "COUNT#defiliban",
    "registry": "SOURCES",
    "seed-marker": "SOURCES#SEED",
    "dispatch-clock": "DISPATCH",
    "prices": "PRICES",
    "price-history": "PRICEHIST#BTC/USD",
    "reject": "REJECT#1b0e4c2a-0000-4000-8000-000000000000",
    "subscription": "WEBSUB#defiliban",
    "hub-secret": "WEBSUBKEY#defiliban",
    "event": "EVENT#0123456789abcdef0123",
    "event-key": "EVKEY#w:zentrix",
    "event-listing": "EVLIST#top",
    "cursor-key": "CURSORKEY",
}


def test_every_function_has_a_role_and_every_family_a_single_pattern() -> None:
    resources = load_template()["Resources"]
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(ROLES) == functions
    assert set(SAMPLE_KEYS) == set(ITEM_FAMILIES)
    for family, key in SAMPLE_KEYS.items():
        matching = {f for f, pattern in ITEM_FAMILIES.items() if fnmatchcase(key, pattern)}
        assert matching == {family}, (key, matching)  # no pattern reaches into another family


def test_the_table_has_no_index_a_leading_key_condition_would_miss() -> None:
    # LeadingKeys on an index is the index's partition key; with a GSI the patterns would differ.
    assert "GlobalSecondaryIndexes" not in load_template()["Resources"]["NewsTable"]["Properties"]


@pytest.mark.parametrize("function", sorted(ROLES))
def test_every_dynamodb_statement_is_bound_to_key_prefixes_with_a_key_required(function: str) -> None:
    statements = dynamodb_statements(function)
    assert statements
    for statement in statements:
        assert statement["Resource"] == {"Fn::GetAtt": ["NewsTable", "Arn"]}  # the table, no index
        condition = statement.get("Condition") or {}
        assert leading_key_patterns(statement), f"{function}: a statement without LeadingKeys"
        # ForAllValues passes when the request carries no key at all; Null=false closes that.
        assert condition.get("Null") == {LEADING_KEYS: "false"}, function
        assert set(condition) == {"ForAllValues:StringLike", "Null"}, function


@pytest.mark.parametrize("function", sorted(ROLES))
def test_each_function_writes_exactly_the_item_families_its_role_declares(function: str) -> None:
    role = ROLES[function]
    for family, key in SAMPLE_KEYS.items():
        for action in WRITE_ACTIONS:
            allowed = allowed_by_template(function, action, key)
            if family not in WRITES[role]:
                assert not allowed, f"{function} may {action} {family} ({key}), which {role} never writes"
        writable = any(allowed_by_template(function, action, key) for action in WRITE_ACTIONS)
        assert writable is (family in WRITES[role]), (function, family)


@pytest.mark.parametrize("function", sorted(ROLES))
def test_each_function_reads_exactly_the_item_families_its_role_declares(function: str) -> None:
    role = ROLES[function]
    for family, key in SAMPLE_KEYS.items():
        readable = any(allowed_by_template(function, action, key) for action in READ_ACTIONS)
        assert readable is (family in READS[role]), (function, family)


def test_a_request_naming_no_key_is_refused_to_everyone() -> None:
    for function in ROLES:
        for action in (*READ_ACTIONS, *WRITE_ACTIONS, "dynamodb:Scan"):
            assert not allowed_by_template(function, action, None), (function, action)


def test_the_fetcher_and_the_processor_no_longer_share_a_partition() -> None:
    """The story count moved from `SOURCE#<id>` (the fetcher's state then; its legacy state
    now, read only: issue 18 moved the states to `STATES`) to `COUNT#<id>`."""
    assert allowed_by_template("FetchFeedsFunction", "dynamodb:PutItem", "STATES")
    assert allowed_by_template("FetchFeedsFunction", "dynamodb:GetItem", "SOURCE#defiliban")
    assert not allowed_by_template("FetchFeedsFunction", "dynamodb:PutItem", "SOURCE#defiliban")
    assert not allowed_by_template("FetchFeedsFunction", "dynamodb:UpdateItem", "COUNT#defiliban")
    assert allowed_by_template("ProcessArticlesFunction", "dynamodb:UpdateItem", "COUNT#defiliban")
    assert not allowed_by_template("ProcessArticlesFunction", "dynamodb:PutItem", "SOURCE#defiliban")
    assert not allowed_by_template("ProcessArticlesFunction", "dynamodb:UpdateItem", "SOURCE#defiliban")


def test_counts_written_before_the_split_move_to_their_own_prefix_once() -> None:
    """devtools.migrate_counts: the old `SOURCE#<id>/STORIES` count is added to `COUNT#<id>`
    (which may already hold stories processed since the deploy) and removed; a rerun moves nothing."""
    import boto3
    from moto import mock_aws

    from devtools.migrate_counts import migrate_counts
    from devtools.template import create_table
    from newsroom.store.dynamo import DynamoStore

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        client.put_item(TableName="t", Item={"PK": {"S": "SOURCE#a"}, "SK": {"S": "STORIES"}, "stories": {"N": "7"}})
        client.put_item(TableName="t", Item={"PK": {"S": "COUNT#a"}, "SK": {"S": "STORIES"}, "stories": {"N": "2"}})
        client.put_item(TableName="t", Item={"PK": {"S": "SOURCE#b"}, "SK": {"S": "STORIES"}, "stories": {"N": "3"}})

        assert migrate_counts(client, "t", ["a", "b", "c"]) == {"a": 7, "b": 3}
        assert migrate_counts(client, "t", ["a", "b", "c"]) == {}

        store = DynamoStore(client, "t", b"k")
        assert store.source_story_counts(["a", "b", "c"]) == {"a": 9, "b": 3, "c": 0}
        assert "Item" not in client.get_item(TableName="t", Key={"PK": {"S": "SOURCE#a"}, "SK": {"S": "STORIES"}})
