"""Scheduled: refresh the price ticker from the configured provider.

Metrics: `PriceAgeSeconds`, the age of the stalest stored pair after this run (the "prices
stale" alarm watches it; when the provider fails the stored prices simply age), and
`PricesStored` with the provider that answered as a dimension.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import observability
from newsroom.wiring import clients as runtime
from newsroom.wiring import handlers as service

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
@observability.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    prices = service.fetch_prices()
    pairs = [p.pair for p in prices]
    providers = sorted({p.provider for p in prices})
    for provider in providers:
        stored = sum(1 for p in prices if p.provider == provider)
        if observability.detailed_metrics():
            with single_metric(
                name="PricesStored",
                unit=MetricUnit.Count,
                value=stored,
                namespace=metrics.namespace,
                default_dimensions=metrics.default_dimensions,
            ) as metric:
                metric.add_dimension(name="Provider", value=provider)
        else:
            metrics.add_metadata(key=f"PricesStored.{provider}", value=stored)
    now = datetime.now(UTC)
    held = runtime.store().get_prices()
    age = max(((now - p.fetched_at).total_seconds() for p in held), default=None)
    if age is not None:
        observability.measure(metrics, "PriceAgeSeconds", MetricUnit.Seconds, round(max(age, 0.0), 1))
    # No stored price at all emits no PriceAgeSeconds: the alarm treats missing data as breaching.
    if prices:
        logger.info("prices refreshed", extra={"pairs": pairs, "providers": providers})
    else:
        logger.warning("no provider answered; keeping the last prices", extra={"price_age_seconds": age})
    return {"stored": len(prices), "pairs": pairs, "providers": providers, "price_age_seconds": age}
