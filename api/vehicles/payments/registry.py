"""The payment providers this deployment takes, by name (the name is the notify URL's last part).

The simulated one is always there (the demo, the tests); a real provider (WeChat Pay, Alipay) is
a class implementing `provider.PaymentProvider`, added here with its keys from the settings, and
`DEFAULT` names the one new orders use.
"""

from __future__ import annotations

from api.core.crypto import derive_key, load_server_secret
from api.settings import Settings
from api.vehicles.payments.provider import PaymentProvider
from api.vehicles.payments.simulated import NAME, SimulatedProvider

DEFAULT = NAME


def providers(settings: Settings) -> dict[str, PaymentProvider]:
    """Every provider, keyed by name."""
    key = derive_key(load_server_secret(settings.secret_key_path), "payment-sim")
    return {NAME: SimulatedProvider(key, settings.public_url)}
