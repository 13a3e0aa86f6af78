"""Which addresses a fetch may reach (the SSRF rules), checked on every hop before connecting.

- Only `http` and `https` URLs are fetched.
- Unless the policy allows private addresses, the host is resolved and refused ("blocked-address")
  when any of its addresses is not publicly routable: private, loopback, link-local, multicast,
  reserved, unspecified, shared (CGNAT) and cloud-metadata addresses, including IPv4 addresses
  hidden inside IPv6 (IPv4-mapped, NAT64, 6to4, Teredo) and the legacy numeric spellings the C
  resolver accepts ("2130706433", "0177.0.0.1", "0x7f.1"). The host is checked as urllib3 parses
  it, so the check and the connection cannot disagree about which host is meant. The resolver is
  injectable, and `check_url` resolves at most once: the client connects to the addresses it
  returns, never to a fresh DNS answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from urllib3.exceptions import LocationValueError
from urllib3.util import parse_url

from newsroom.fetch.contract import FetchError, FetchPolicy

__all__ = [
    "ALLOWED_SCHEMES",
    "IPAddress",
    "Resolver",
    "check_url",
    "is_forbidden_address",
    "parse_ip_literal",
    "resolve_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Metadata endpoints are named explicitly even where a broader rule also covers them, so that a
# future loosening of the broad rules cannot quietly reopen them.
_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_NAT64_PREFIXES = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for `host`, in its order, without duplicates."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, policy: FetchPolicy, resolver: Resolver = resolve_host) -> list[IPAddress]:
    """The addresses to connect to for `url`, each validated under `policy` (scheme, then
    address); raises FetchError when the URL may not be fetched. Resolves at most once."""
    try:
        parsed = parse_url(url)
    except LocationValueError as exc:
        raise FetchError("bad-url", f"unparseable URL {url!r}: {exc}", url=url) from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FetchError("bad-scheme", f"only http and https are fetched, not {url!r}", url=url)
    if not parsed.host:
        raise FetchError("bad-url", f"no host in URL {url!r}", url=url)
    return _resolve_checked(parsed.host, url, resolver, check=not policy.allow_private)


def is_forbidden_address(address: IPAddress) -> bool:
    """True for any address a crawler must not reach: everything not publicly routable."""
    if address in _METADATA_ADDRESSES:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True  # a zone index only means something on a local link
        if any(is_forbidden_address(inner) for inner in _embedded_ipv4(address)):
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, as the C resolver would read it; None for a name.

    Besides canonical IPv4 and bracketed IPv6 this accepts inet_aton's legacy forms (one to four
    parts, each decimal, 0-prefixed octal or 0x-prefixed hex), because getaddrinfo connects to
    "2130706433" and "0177.0.0.1" without any DNS lookup.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith("."):
        text = text[:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _parse_legacy_ipv4(text)


def _parse_legacy_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _parse_inet_aton_number(part)
        if value is None:
            return None
        values.append(value)
    # The last part fills all the bytes the earlier parts did not: a, a.b (8.24), a.b.c (8.8.16).
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = 0
    for value in leading:
        number = (number << 8) | value
    number = (number << (8 * (4 - len(leading)))) | last
    return ipaddress.IPv4Address(number)


def _parse_inet_aton_number(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:], 16) if lowered[2:] else 0
        if not lowered.isdigit() or not lowered.isascii():
            return None
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered, 8)
        return int(lowered, 10)
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if any(address in prefix for prefix in _NAT64_PREFIXES):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def _resolve_checked(host: str, url: str, resolver: Resolver, *, check: bool) -> list[IPAddress]:
    literal = parse_ip_literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            resolved = resolver(host)
        except (OSError, UnicodeError) as exc:
            raise FetchError("dns", f"cannot resolve {host}: {exc}", url=url) from exc
        if not resolved:
            raise FetchError("dns", f"{host} resolves to no address", url=url)
        addresses = []
        for text in resolved:
            try:
                addresses.append(ipaddress.ip_address(text))
            except ValueError as exc:
                raise FetchError("blocked-address", f"{host} resolved to unreadable address {text!r}", url=url) from exc
    for address in addresses:
        if check and is_forbidden_address(address):
            raise FetchError("blocked-address", f"{host} is {address}, which is not a public address", url=url)
    return addresses
