"""Per-address limits count an IPv6 client by its /64 and an IPv4 one (also IPv4-mapped) by its address."""
from __future__ import annotations

import pytest

from service.client_address import throttle_key
from service.signin_throttle import address_subject


def test_ipv4_is_counted_by_its_full_address():
    assert throttle_key("203.0.113.5") == "203.0.113.5"
    assert throttle_key("203.0.113.5") != throttle_key("203.0.113.6")


def test_ipv6_in_one_slash_64_shares_one_key():
    keys = {throttle_key(a) for a in ("2001:db8:0:1::1", "2001:db8:0:1:ffff:ffff:ffff:ffff",
                                      "2001:0DB8:0000:0001:1234:5678:9abc:def0", "2001:db8:0:1::2%eth0")}
    assert keys == {"2001:db8:0:1::/64"}


def test_ipv6_in_two_slash_64s_are_counted_apart():
    assert throttle_key("2001:db8:0:1::1") != throttle_key("2001:db8:0:2::1")
    assert throttle_key("2001:db8:0:2::1") == "2001:db8:0:2::/64"


def test_ipv4_mapped_ipv6_is_counted_as_its_ipv4_address():
    assert throttle_key("::ffff:203.0.113.5") == throttle_key("203.0.113.5") == "203.0.113.5"
    assert throttle_key("::ffff:203.0.113.6") != throttle_key("::ffff:203.0.113.5")  # not one /64 for all IPv4


@pytest.mark.parametrize("odd", ["testclient", "not an address", "2001:db8::zz", "999.1.1.1", "x" * 500, "::1/64"])
def test_what_is_not_an_address_is_counted_as_itself_cut_short(odd):
    assert throttle_key(odd) == odd[:64]


def test_no_address_is_not_counted():
    assert throttle_key(None) is None and throttle_key("") is None


def test_sign_in_failures_per_address_use_the_same_key():
    assert address_subject("2001:db8:0:1::1") == address_subject("2001:db8:0:1::9") == "address:2001:db8:0:1::/64"
    assert address_subject("::ffff:198.51.100.7") == "address:198.51.100.7"
    assert address_subject(None) is None
