import { i18n } from "@/i18n";

/** The device kinds of the bridge protocol, in the order the kind filter lists them. */
export const DEVICE_KINDS = [
  "door_controller",
  "door_station",
  "indoor_station",
  "barrier",
  "plate_camera",
  "camera",
  "intrusion_zone",
  "panic_button",
  "smoke_sensor",
  "water_sensor",
  "temperature_sensor",
  "gas_sensor",
  "lift",
  "speaker",
  "display",
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** 门禁, 门口机, …; a kind this app does not know yet shows as its code. */
export function deviceKindLabel(kind: string): string {
  const { t, te } = i18n.global;
  const key = `devices.kinds.${kind}`;
  return te(key) ? t(key) : kind;
}

/** Beyond this many seconds a device's or bridge's clock is worth a warning (records carry its time). */
export const SKEW_WARNING_S = 2;

export function skewWarning(skew: number | null | undefined): skew is number {
  return typeof skew === "number" && Math.abs(skew) > SKEW_WARNING_S;
}

/** A clock offset with its sign and one decimal: "+3.2", "-12.0". */
export function formatSkew(skew: number): string {
  return `${skew > 0 ? "+" : skew < 0 ? "-" : ""}${Math.abs(skew).toFixed(1)}`;
}

/** The online filter of the device list: all, only online, only offline. */
export type OnlineFilter = "all" | "online" | "offline";

export function onlineParam(filter: OnlineFilter): boolean | undefined {
  return filter === "all" ? undefined : filter === "online";
}

/** Live events after which the device list may be out of date: any device's event, a bridge going away. */
export function changesDevices(event: { type: string }): boolean {
  return event.type === "device.event" || event.type.startsWith("bridge.");
}
