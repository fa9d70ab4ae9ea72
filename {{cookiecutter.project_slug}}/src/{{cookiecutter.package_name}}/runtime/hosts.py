"""Which Host and Origin headers ``/mcp`` accepts: the SDK's DNS-rebinding protection.

A web page can make a browser send requests to any address, including ``127.0.0.1`` and the
LAN; with DNS rebinding it can even read the answers. What gives such a request away is its
``Host`` (the attacker's name) and its ``Origin`` (the attacker's page), so the MCP spec asks
servers to check both. The SDK has the check (421 for a foreign Host, 403 for a foreign Origin,
requests without Origin, i.e. non-browser clients, pass); this module decides, once at startup
and in one place for both SDK lines, what it accepts: the names of the bind address plus
``ALLOWED_HOSTS`` and ``ALLOWED_ORIGINS``.
"""

from __future__ import annotations

import ipaddress

from mcp.server.transport_security import TransportSecuritySettings

from .settings import ENV_PREFIX, ServiceSettings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
EVERY_INTERFACE = frozenset({"0.0.0.0", "::"})


def bind_names(host: str) -> tuple[str, ...]:
    """The Host names that reach a server bound to ``host`` without any proxy in between.

    Binding every interface counts as loopback only: the names clients use for the machine
    (its DNS names, its addresses) are not knowable here, so they must be configured.
    """
    if host in EVERY_INTERFACE or host == "localhost":
        return LOOPBACK_NAMES
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return (host,)
    if address.is_loopback:
        return LOOPBACK_NAMES
    return (f"[{host}]",) if address.version == 6 else (host,)


def allowed_hosts(settings: ServiceSettings) -> list[str]:
    """Host headers accepted: the bind names, with and without a port, then the configured."""
    names = bind_names(settings.host)
    return [*names, *(f"{name}:*" for name in names), *settings.allowed_hosts]


def allowed_origins(settings: ServiceSettings) -> list[str]:
    """Origin headers accepted: pages served from the bind names, then the configured."""
    names = bind_names(settings.host)
    bound = [f"http://{name}{port}" for name in names for port in ("", ":*")]
    return [*bound, *settings.allowed_origins]


def transport_security(settings: ServiceSettings) -> TransportSecuritySettings:
    """The SDK's host and origin check, always on (``sdk.py`` hands it to the SDK)."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=allowed_hosts(settings),
        allowed_origins=allowed_origins(settings),
    )


def exposure_warning(settings: ServiceSettings) -> str | None:
    """What to tell an operator who binds every interface but allows no public name."""
    if settings.host not in EVERY_INTERFACE or settings.allowed_hosts:
        return None
    return (
        f"listening on every interface ({settings.host}) but accepting only requests addressed "
        f"to {', '.join(LOOPBACK_NAMES)}: others get 421 Invalid Host header. Set "
        f"{ENV_PREFIX}ALLOWED_HOSTS to the names clients use (e.g. mcp.example.com,10.0.0.5:*), "
        f"and {ENV_PREFIX}ALLOWED_ORIGINS for browser clients"
    )
