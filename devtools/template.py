"""Create the stack's DynamoDB table and SQS queues from `template.yaml` itself.

Tests and the local run both call this, so they exercise the real key schema and queue
settings rather than a second, hand-written copy that could drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short-form tags (!Ref, !GetAtt, …) as dicts."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template, parsed once per file and version, however its path is spelled: an edit
    (a new modification time) is read afresh."""
    resolved = path.resolve()
    return _load_template(resolved, resolved.stat().st_mtime_ns)


@cache
def _load_template(path: Path, _version: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def resource_properties(logical_id: str, template: Path = TEMPLATE) -> dict[str, Any]:
    return dict(load_template(template)["Resources"][logical_id]["Properties"])


def sqs_batch_size(logical_id: str, template: Path = TEMPLATE) -> int:
    """The `BatchSize` of the function's SQS event source (10, SQS's default, when it has none or
    names none)."""
    function = load_template(template)["Resources"].get(logical_id, {})
    for event in (function.get("Properties", {}).get("Events") or {}).values():
        if event["Type"] == "SQS":
            return int(event["Properties"].get("BatchSize", 10))
    return 10


def function_environment(logical_id: str) -> dict[str, Any]:
    template = load_template()
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    own = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    env.update(own)
    return env


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    fetch_queue_url: str
    fetch_queue_arn: str
    entry_bucket: str = ""  # only when `create_resources` was given an S3 client


def condition_holds(name: str, template: Path = TEMPLATE, parameters: dict[str, str] | None = None) -> bool:
    """Whether the template's condition `name` holds for `parameters` (the template's defaults
    otherwise). Only the forms this template uses: Fn::Equals of a Ref and a string, Fn::Not."""
    loaded = load_template(template)
    values = {key: str(p.get("Default", "")) for key, p in loaded.get("Parameters", {}).items()}
    values.update(parameters or {})

    def value(node: Any) -> str:
        return values[node["Ref"]] if isinstance(node, dict) and "Ref" in node else str(node)

    def holds(node: Any) -> bool:
        if "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        if "Fn::Not" in node:
            return not holds(node["Fn::Not"][0])
        raise ValueError(f"condition {name}: unsupported form {sorted(node)}")

    return holds(loaded["Conditions"][name])


def billing_mode(template: Path = TEMPLATE, parameters: dict[str, str] | None = None) -> str:
    """`NewsTable`'s BillingMode for `parameters` (the local stack takes the defaults: on demand)."""
    mode = resource_properties("NewsTable", template).get("BillingMode", "PAY_PER_REQUEST")
    if isinstance(mode, dict) and "Fn::If" in mode:
        condition, when_true, when_false = mode["Fn::If"]
        return str(when_true if condition_holds(condition, template, parameters) else when_false)
    return str(mode)


def create_table(dynamodb: Any, table_name: str, *, template: Path = TEMPLATE) -> None:
    """The stack's table (`NewsTable`), on any DynamoDB client: boto3's (moto) or the in-memory one."""
    props = resource_properties("NewsTable", template)
    params: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": billing_mode(template),
    }
    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**params)
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)


def _queue_attributes(props: dict[str, Any], arns: dict[str, str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for key in (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize",
    ):
        if key in props:
            attributes[key] = str(props[key])
    redrive = props.get("RedrivePolicy")
    if redrive:
        target = redrive["deadLetterTargetArn"]
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            target = arns[target["Fn::GetAtt"][0]]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": str(redrive["maxReceiveCount"])}
        )
    return attributes


def create_resources(dynamodb: Any, sqs: Any, prefix: str = "newsroom", *, s3: Any = None) -> LocalResources:
    """The table, both queues with their dead-letter queues and (given an S3 client) the entry
    bucket, each from its resource properties in template.yaml."""
    table_name = f"{prefix}-NewsTable"
    create_table(dynamodb, table_name)
    arns: dict[str, str] = {}
    urls: dict[str, str] = {}
    for logical_id in ("ArticleDeadLetterQueue", "ArticleQueue", "FetchDeadLetterQueue", "FetchQueue"):
        props = resource_properties(logical_id)
        url = sqs.create_queue(QueueName=f"{prefix}-{logical_id}", Attributes=_queue_attributes(props, arns))[
            "QueueUrl"
        ]
        urls[logical_id] = url
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bucket = ""
    if s3 is not None:
        bucket = create_entry_bucket(s3, f"{prefix}-entrybucket".lower())
    return LocalResources(
        table_name=table_name,
        queue_url=urls["ArticleQueue"],
        queue_arn=arns["ArticleQueue"],
        dead_letter_queue_url=urls["ArticleDeadLetterQueue"],
        fetch_queue_url=urls["FetchQueue"],
        fetch_queue_arn=arns["FetchQueue"],
        entry_bucket=bucket,
    )


def create_entry_bucket(s3: Any, name: str) -> str:
    """The entry bucket with template.yaml's lifecycle rules (what moto can model of it)."""
    props = resource_properties("EntryBucket")
    s3.create_bucket(Bucket=name)
    rules = []
    for rule in props["LifecycleConfiguration"]["Rules"]:
        converted: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
        if "AbortIncompleteMultipartUpload" in rule:
            converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(converted)
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    return name
