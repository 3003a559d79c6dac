"""Device drivers: one folder per protocol behind the interface in `base.py`."""

from device_bridge.drivers.base import (
    DeviceError,
    DeviceUnavailable,
    Driver,
    Emit,
    InvalidArguments,
    supported_actions,
)

__all__ = [
    "DeviceError",
    "DeviceUnavailable",
    "Driver",
    "Emit",
    "InvalidArguments",
    "supported_actions",
]
