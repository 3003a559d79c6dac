"""Devices speaking JSON over MQTT (docs/mqtt-protocol.md)."""

from device_bridge.drivers.mqtt.driver import MqttDriver

__all__ = ["MqttDriver"]
