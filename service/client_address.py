"""Which client a per-address limit counts: an IPv4 address (also when written IPv4-mapped in IPv6) by itself, an
IPv6 address by its /64, since one subscriber (and so one attacker) is handed a whole /64 to pick addresses from."""
from __future__ import annotations

import functools
import ipaddress

IPV6_PREFIX = 64
MAX_KEY = 64  # the width of the throttles' address columns


# Every authenticated request asks (the throttle's check comes before the key's), and parsing an address costs some
# 15 us; a pure function of its string, so remembered for the last few thousand addresses (bounded, whatever a
# crowd of addresses sends).
@functools.lru_cache(maxsize=4096)
def throttle_key(address: str | None) -> str | None:
    """The key that address is counted under (None for no address). Something that is not an IP address (a proxy's
    odd header, a test client's name) is counted as itself, cut to MAX_KEY: never an error."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:MAX_KEY]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        # Through the integer, so that a zone id (fe80::1%eth0) is dropped with the host bits.
        network = ipaddress.IPv6Network((int(parsed) >> IPV6_PREFIX << IPV6_PREFIX, IPV6_PREFIX))
        return str(network)
    return str(parsed)
