"""Issue 18, point 3: the table's capacity mode is a Parameter. On demand by default; Provisioned
adds auto scaling (target tracking) on reads and writes, through Application Auto Scaling's
service-linked role, so the stack grants no IAM for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.template import billing_mode, condition_holds, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
TEMPLATE = load_template(TEMPLATE_PATH)
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]


def test_on_demand_is_the_default_and_provisioned_the_alternative() -> None:
    assert PARAMETERS["TableCapacityMode"]["Default"] == "OnDemand"
    assert PARAMETERS["TableCapacityMode"]["AllowedValues"] == ["OnDemand", "Provisioned"]
    assert billing_mode(TEMPLATE_PATH) == "PAY_PER_REQUEST"
    assert billing_mode(TEMPLATE_PATH, {"TableCapacityMode": "Provisioned"}) == "PROVISIONED"
    assert not condition_holds("ProvisionedTable", TEMPLATE_PATH)
    table = RESOURCES["NewsTable"]["Properties"]
    condition, provisioned, on_demand = table["ProvisionedThroughput"]["Fn::If"]
    assert condition == "ProvisionedTable" and on_demand == {"Ref": "AWS::NoValue"}
    assert provisioned == {
        "ReadCapacityUnits": {"Ref": "TableReadCapacityMin"},
        "WriteCapacityUnits": {"Ref": "TableWriteCapacityMin"},
    }


def test_provisioned_mode_scales_reads_and_writes_by_target_tracking_only_when_chosen() -> None:
    for dimension, metric in (
        ("Read", "DynamoDBReadCapacityUtilization"),
        ("Write", "DynamoDBWriteCapacityUtilization"),
    ):
        target = RESOURCES[f"Table{dimension}ScalableTarget"]
        policy = RESOURCES[f"Table{dimension}ScalingPolicy"]
        assert target["Condition"] == policy["Condition"] == "ProvisionedTable"
        props = target["Properties"]
        assert props["ServiceNamespace"] == "dynamodb"
        assert props["ScalableDimension"] == f"dynamodb:table:{dimension}CapacityUnits"
        assert props["ResourceId"] == {"Fn::Sub": "table/${NewsTable}"}
        assert props["MinCapacity"] == {"Ref": f"Table{dimension}CapacityMin"}
        assert props["MaxCapacity"] == {"Ref": f"Table{dimension}CapacityMax"}
        # No RoleARN: the service-linked role, not a role this stack would have to grant.
        assert "RoleARN" not in props
        tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        assert policy["Properties"]["ScalingTargetId"] == {"Ref": f"Table{dimension}ScalableTarget"}
        assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == metric
        assert 20 <= tracking["TargetValue"] <= 90  # DynamoDB accepts 20-90 %
    assert not any(r["Type"] == "AWS::IAM::Role" and "autoscaling" in str(r).lower() for r in RESOURCES.values())
