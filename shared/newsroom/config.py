"""All configuration, read from the environment that `template.yaml` sets.

One place reads `os.environ`; everything else receives a `Settings` value. Defaults are the
embedded local defaults, so a missing variable never crashes a cold start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from newsroom.models import Category, Kind, Source, SourceRole

DEFAULT_PRICE_SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    queue_url: str
    sources_file: str | None
    price_api_base_url: str
    price_symbols: tuple[str, ...]
    price_stale_seconds: int
    site_name: str
    desk_name: str
    site_url: str
    editorial_image_base_url: str
    public_base_url: str | None
    cursor_secret: bytes
    fetch_connect_timeout: float
    fetch_read_timeout: float
    fetch_max_bytes: int
    fetch_concurrency: int
    # Loopback and private addresses are refused unless this is set. The template never sets it;
    # only the local run and tests do, because their sample servers live on 127.0.0.1.
    allow_private_network: bool
    max_body_bytes: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        return cls(
            table_name=e.get("TABLE_NAME", "newsroom"),
            queue_url=e.get("QUEUE_URL", ""),
            sources_file=e.get("SOURCES_FILE") or None,
            price_api_base_url=e.get("PRICE_API_BASE_URL", "https://api.coingecko.com/api/v3").rstrip("/"),
            price_symbols=tuple(
                s.strip().upper()
                for s in e.get("PRICE_SYMBOLS", ",".join(DEFAULT_PRICE_SYMBOLS)).split(",")
                if s.strip()
            ),
            price_stale_seconds=_int(e.get("PRICE_STALE_SECONDS"), 900),
            site_name=e.get("SITE_NAME", "CryptoCompass"),
            desk_name=e.get("DESK_NAME", "CryptoCompass newsroom"),
            site_url=e.get("SITE_URL", "https://cryptocompass.example").rstrip("/"),
            editorial_image_base_url=e.get(
                "EDITORIAL_IMAGE_BASE_URL", "https://cryptocompass.example/static/editorial"
            ).rstrip("/"),
            public_base_url=(e.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            cursor_secret=e.get("CURSOR_SECRET", "local-development-cursor-key").encode(),
            fetch_connect_timeout=_float(e.get("FETCH_CONNECT_TIMEOUT"), 5.0),
            fetch_read_timeout=_float(e.get("FETCH_READ_TIMEOUT"), 10.0),
            fetch_max_bytes=_int(e.get("FETCH_MAX_BYTES"), 5 * 1024 * 1024),
            fetch_concurrency=max(1, _int(e.get("FETCH_CONCURRENCY"), 16)),
            allow_private_network=_flag(e.get("ALLOW_PRIVATE_NETWORK")),
            max_body_bytes=_int(e.get("MAX_BODY_BYTES"), 300_000),
        )


@cache
def settings() -> Settings:
    return Settings.from_env()


def _source_from_json(raw: dict[str, Any]) -> Source:
    hint = raw.get("category_hint")
    kind = raw.get("kind_hint")
    return Source(
        id=str(raw["id"]),
        name=str(raw["name"]),
        feed_url=str(raw["feed_url"]),
        homepage=str(raw.get("homepage", "")),
        role=SourceRole(raw.get("role", SourceRole.ORIGINAL)),
        category_hint=Category(hint) if hint else None,
        language=raw.get("language"),
        kind_hint=Kind(kind) if kind else None,
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        enabled=bool(raw.get("enabled", True)),
    )


def parse_sources(document: str) -> tuple[Source, ...]:
    data = json.loads(document)
    items = data["sources"] if isinstance(data, dict) else data
    sources = tuple(_source_from_json(item) for item in items)
    ids = [s.id for s in sources]
    if len(ids) != len(set(ids)):
        raise ValueError("source ids must be unique")
    return sources


@cache
def load_sources(path: str | None = None) -> tuple[Source, ...]:
    """The configured sources: `SOURCES_FILE` when set, else the file shipped in the layer."""
    chosen = path if path is not None else settings().sources_file
    if chosen:
        return parse_sources(Path(chosen).read_text(encoding="utf-8"))
    return parse_sources(resources.files("newsroom").joinpath("sources.json").read_text(encoding="utf-8"))
