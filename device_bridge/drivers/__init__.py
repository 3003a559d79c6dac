"""Device drivers: one folder per protocol behind the interface in `base.py`."""

from device_bridge.drivers.base import (
    DeviceError,
    DeviceUnavailable,
    Driver,
    Emit,
    InvalidArguments,
    device_actions,
    has_own_lock,
    supported_actions,
)

__all__ = [
    "DeviceError",
    "DeviceUnavailable",
    "Driver",
    "Emit",
    "InvalidArguments",
    "device_actions",
    "has_own_lock",
    "supported_actions",
]
