"""Simulated devices of every kind, for the demo and the tests."""

from device_bridge.drivers.sim.driver import SimDriver

__all__ = ["SimDriver"]
