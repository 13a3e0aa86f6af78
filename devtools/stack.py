"""The in-process stack the tests share: moto for AWS, with the table, queues and entry bucket
created from template.yaml, the sample server for the internet, and the environment the
handlers read, as template.yaml sets it.

    with local_stack(monkeypatch.setenv, tmp_path) as stack:
        invoke(load_handler_module("fetch_feeds"), load_event("fetch_feeds_schedule"))

`setenv` is how the caller sets (and later restores) environment variables: pytest's
`monkeypatch.setenv`, or a `pytest.MonkeyPatch.context()`'s for a wider-scoped fixture.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.sample_server import SampleServer
from devtools.template import LocalResources, create_resources

TEST_CURSOR_SECRET = "test-cursor-secret-0123456789"  # noqa: S105 - signs test cursors only
LOCAL_API_URL = "http://127.0.0.1:3000"  # where tests and `make run` address the API


@dataclass
class LocalStack:
    resources: LocalResources
    samples: SampleServer
    dynamodb: Any
    sqs: Any
    s3: Any


@contextmanager
def local_stack(setenv: Callable[[str, str], None], workdir: Path) -> Iterator[LocalStack]:
    import boto3
    from moto import mock_aws

    from newsroom.wiring import clients as runtime

    # In-process moto intercepts boto3's calls; an endpoint URL would send them elsewhere.
    saved_endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            sqs = boto3.client("sqs", region_name="us-east-1")
            s3 = boto3.client("s3", region_name="us-east-1")
            resources = create_resources(dynamodb, sqs, s3=s3)
            samples = SampleServer().start()
            try:
                env = {
                    "TABLE_NAME": resources.table_name,
                    "QUEUE_URL": resources.queue_url,
                    "FETCH_QUEUE_URL": resources.fetch_queue_url,
                    "ENTRY_BUCKET": resources.entry_bucket,
                    "SOURCES_FILE": str(samples.sources_file(workdir / "sources.json")),
                    "PRICE_API_BASE_URL": f"{samples.base_url}/api/v3",
                    "ALLOW_PRIVATE_NETWORK": "true",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                    "CURSOR_SECRET": TEST_CURSOR_SECRET,
                    # The local API's address, configured as a deployment behind a custom domain
                    # would be: links never come from the request's Host header.
                    "PUBLIC_BASE_URL": LOCAL_API_URL,
                }
                for key, value in env.items():
                    setenv(key, value)
                runtime.reset()
                yield LocalStack(resources=resources, samples=samples, dynamodb=dynamodb, sqs=sqs, s3=s3)
            finally:
                samples.stop()
                runtime.reset()
    finally:
        if saved_endpoint is not None:
            os.environ["AWS_ENDPOINT_URL"] = saved_endpoint
