"""The in-process stack of tests/e2e (on the strict in-memory DynamoDB), for the API fuzz tests."""

from tests.e2e.conftest import loaded, stack, stack_dynamodb

__all__ = ["loaded", "stack", "stack_dynamodb"]
