"""The address rules on their own: IP literals read like the C resolver reads them, public
addresses allowed (the refused ones are tested through `http_get` in test_http)."""

from __future__ import annotations

import ipaddress

import pytest

from newsroom.fetch.addresses import is_forbidden_address, parse_ip_literal


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("134744072", "8.8.8.8"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("93.184.216.34.", "93.184.216.34"),
    ],
)
def test_ip_literals_are_read_like_the_c_resolver(host: str, expected: str) -> None:
    assert parse_ip_literal(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.com", "09.1.1.1", "1.2.3.4.5", "256.1.1.1", "0xfg.1", "add.bad", ""])
def test_names_are_not_ip_literals(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "2001:4860:4860::8888"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))
