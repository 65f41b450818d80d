"""Resolving the client's address (SPEC §2 CHATCORE_TRUSTED_PROXIES): headers are believed only
from a trusted proxy, and the chain is walked from the right."""

from __future__ import annotations

from typing import Any

import pytest

from app_http.client_address import client_address, parse_networks
from app_http.settings import ConfigError, Settings

PROXIES = parse_networks("10.0.0.1, 192.168.0.0/16, fd00::/8")


def scope(peer: str | None, *headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "client": None if peer is None else (peer, 51234),
        "headers": [(name.encode(), value.encode("latin-1")) for name, value in headers],
    }


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("203.0.113.7", [], "203.0.113.7"),
        # Not from a proxy: whatever the client wrote is ignored.
        ("203.0.113.7", [("x-forwarded-for", "1.2.3.4")], "203.0.113.7"),
        ("203.0.113.7", [("forwarded", "for=1.2.3.4")], "203.0.113.7"),
        # From a trusted proxy: the nearest hop that is not a trusted proxy.
        ("10.0.0.1", [("x-forwarded-for", "198.51.100.9")], "198.51.100.9"),
        ("10.0.0.1", [("x-forwarded-for", "6.6.6.6, 198.51.100.9")], "198.51.100.9"),
        ("10.0.0.1", [("x-forwarded-for", "6.6.6.6, 198.51.100.9, 192.168.3.4")], "198.51.100.9"),
        ("10.0.0.1", [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.9")], "198.51.100.9"),
        ("10.0.0.1", [("forwarded", 'for=6.6.6.6, for="198.51.100.9:4711";proto=https')], "198.51.100.9"),
        ("10.0.0.1", [("forwarded", 'for="[2001:db8::7]:4711";by=10.0.0.1')], "2001:db8::7"),
        ("10.0.0.1", [("forwarded", "proto=https;For=198.51.100.9")], "198.51.100.9"),
        # Both headers: X-Forwarded-For wins.
        ("10.0.0.1", [("forwarded", "for=6.6.6.6"), ("x-forwarded-for", "198.51.100.9")], "198.51.100.9"),
        # Every hop a trusted proxy: the leftmost is the client.
        ("10.0.0.1", [("x-forwarded-for", "192.168.0.5, 192.168.0.6")], "192.168.0.5"),
        # No header, or garbage where the proxy's entry should be: the last good hop.
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", [("x-forwarded-for", "198.51.100.9, nonsense")], "10.0.0.1"),
        ("10.0.0.1", [("x-forwarded-for", "")], "10.0.0.1"),
        ("10.0.0.1", [("forwarded", "for=unknown")], "10.0.0.1"),
        ("10.0.0.1", [("forwarded", "for=_hidden")], "10.0.0.1"),
        # IPv6 peers, and IPv4 written as IPv6.
        ("fd00::1", [("x-forwarded-for", "2001:db8::9")], "2001:db8::9"),
        ("::ffff:10.0.0.1", [("x-forwarded-for", "::ffff:198.51.100.9")], "198.51.100.9"),
        # Not an IP peer at all (a test client, a Unix socket): taken as it is.
        ("testclient", [("x-forwarded-for", "1.2.3.4")], "testclient"),
        (None, [("x-forwarded-for", "1.2.3.4")], "unknown"),
    ],
)
def test_the_client_address(peer: str | None, headers: list[tuple[str, str]], client: str) -> None:
    assert client_address(scope(peer, *headers), PROXIES) == client


def test_without_trusted_proxies_no_header_is_believed() -> None:
    assert client_address(scope("127.0.0.1", ("x-forwarded-for", "1.2.3.4")), ()) == "127.0.0.1"


def test_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"CHATCORE_TRUSTED_PROXIES": " 127.0.0.1 , 10.0.0.0/8,::1 "})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert Settings.from_env({}).trusted_proxies == ()


@pytest.mark.parametrize("raw", ["10.0.0.300", "proxy.example.com", "10.0.0.0/33", "10.0.0.1;10.0.0.2"])
def test_a_bad_trusted_proxy_stops_start_up_with_one_line(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"CHATCORE_TRUSTED_PROXIES": f"127.0.0.1,{raw}"})
    message = str(caught.value)
    assert "CHATCORE_TRUSTED_PROXIES" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("CHATCORE_LOGIN_ADDRESS_LIMIT", "5"),
        ("CHATCORE_SIGNUP_ADDRESS_LIMIT", "0"),
        ("CHATCORE_SIGNUP_ADDRESS_LIMIT", "many"),
        ("CHATCORE_OAUTH_ADDRESS_LIMIT", "0"),
    ],
)
def test_bad_throttle_budgets_stop_start_up(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


def test_throttle_budgets_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CHATCORE_LOGIN_ADDRESS_LIMIT": "500",
            "CHATCORE_SIGNUP_ADDRESS_LIMIT": "7",
            "CHATCORE_OAUTH_ADDRESS_LIMIT": "9",
        }
    )
    assert (settings.login_address_limit, settings.signup_address_limit, settings.oauth_address_limit) == (
        500,
        7,
        9,
    )
    assert (Settings().login_address_limit, Settings().signup_address_limit) == (100, 300)
    assert Settings.from_env({}).oauth_address_limit == 300
