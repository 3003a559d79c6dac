import { afterEach, describe, expect, it } from "vitest";
import {
  accessMethodLabel,
  accessResultLabel,
  accessResultTone,
  directionLabel,
  doorError,
  doorOutcome,
  doorReason,
  doorRoleLabel,
} from "@/access";
import { ApiError } from "@/api/client";
import { changesDevices, DEVICE_KINDS, deviceKindLabel, formatSkew, onlineParam, skewWarning } from "@/devices";
import { setLocale } from "@/i18n";
import en from "@/i18n/en";
import zhCN from "@/i18n/zh-CN";

const RECORD_ID = "0b8e5c1e-8d4f-4a53-9b1e-2d0f6b3c7a10";

afterEach(() => setLocale("zh-CN", { persist: false }));

describe("access labels", () => {
  it("name every opening method", () => {
    expect(["app", "card", "qr", "pin", "face", "remote"].map(accessMethodLabel)).toEqual([
      "手机开门",
      "刷卡",
      "二维码",
      "密码",
      "人脸",
      "远程",
    ]);
    setLocale("en", { persist: false });
    expect(accessMethodLabel("app")).toBe("App");
  });

  it("show a method the app does not know by its code", () => {
    expect(accessMethodLabel("bluetooth")).toBe("bluetooth");
  });

  it("name a fingerprint", () => {
    expect(accessMethodLabel("fingerprint")).toBe("指纹");
  });

  it("colour results green, red and orange", () => {
    expect(["granted", "denied", "failed"].map(accessResultLabel)).toEqual(["通过", "拒绝", "失败"]);
    expect(["granted", "denied", "failed", "other"].map(accessResultTone)).toEqual([
      "success",
      "danger",
      "warning",
      "default",
    ]);
  });

  it("name directions and door roles", () => {
    expect([directionLabel("in"), directionLabel("out")]).toEqual(["进", "出"]);
    expect([doorRoleLabel("gate"), doorRoleLabel("unit_door"), doorRoleLabel("door")]).toEqual([
      "大门",
      "单元门",
      "门",
    ]);
    expect(doorRoleLabel("")).toBe("门");
  });
});

describe("door outcomes", () => {
  const answer = (result: "granted" | "denied" | "failed", reason = "") => ({
    result,
    reason,
    record_id: RECORD_ID,
    command_status: result === "granted" ? "ok" : null,
    guards_notified: false,
  });

  it("say 门已打开 when the door opened", () => {
    expect(doorOutcome(answer("granted"))).toEqual({ ok: true, message: "门已打开" });
  });

  it("translate the server's reasons, an offline bridge included", () => {
    expect(doorOutcome(answer("failed", "bridge offline"))).toEqual({ ok: false, message: "设备离线，请稍后再试" });
    expect(doorOutcome(answer("failed", "timeout: no answer in time")).message).toBe("门禁没有响应，请稍后再试");
    expect(doorOutcome(answer("failed", "error: jammed")).message).toBe("开门失败，请稍后再试");
    expect(doorOutcome(answer("failed")).message).toBe("开门失败，请稍后再试");
  });

  it("tell the resident the guards know when a granted door did not open", () => {
    const notOpened = { ...answer("failed", "failed: device door-1-1 is offline"), guards_notified: true };
    expect(doorOutcome(notOpened)).toEqual({ ok: false, message: "门未打开，已通知保安" });
    setLocale("en", { persist: false });
    expect(doorOutcome(notOpened).message).toBe("The door did not open; security has been notified");
  });

  it("explain a refusal (403) in the reader's language", () => {
    const refusal = new ApiError(403, "door_not_entitled", "not your building's door", { record_id: RECORD_ID });
    expect(doorError(refusal)).toEqual({ ok: false, message: "这不是您所在楼栋的门" });
    setLocale("en", { persist: false });
    expect(doorError(refusal).message).toBe("This is not a door of your building");
    expect(doorError(new ApiError(403, "door_not_entitled", "some new reason")).message).toBe(
      "You may not open this door",
    );
  });

  it("map error codes to sentences in both languages", () => {
    const offline = new ApiError(503, "bridge_offline", "The site's bridge is offline; the command was not sent.");
    expect(doorError(offline).message).toBe("设备离线，请稍后再试");
    expect(doorError(new ApiError(0, "network_error", "Failed to fetch")).message).toBe(
      "网络连接失败，请检查网络后重试",
    );
    setLocale("en", { persist: false });
    expect(doorError(offline).message).toBe("The device is offline. Please try again later");
  });

  it("say nothing more about a pass, and pass on a refusal's unknown reason as it is", () => {
    expect(doorReason("", "granted")).toBe("");
    expect(doorReason("not your community", "denied")).toBe("这扇门不属于您的小区");
    expect(doorReason("outside opening hours", "denied")).toBe("outside opening hours");
  });
});

describe("device labels", () => {
  it("name every device kind in both languages", () => {
    for (const kind of DEVICE_KINDS) {
      expect(zhCN.devices.kinds[kind], kind).toBeTruthy();
      expect(en.devices.kinds[kind], kind).toBeTruthy();
    }
    expect(deviceKindLabel("door_controller")).toBe("门禁");
    expect(deviceKindLabel("plate_camera")).toBe("车牌识别");
    expect(deviceKindLabel("drone")).toBe("drone");
  });

  it("warn about clocks more than 2 s off, either way", () => {
    expect([null, undefined, 0, 2, -2].map(skewWarning)).toEqual([false, false, false, false, false]);
    expect([2.01, -3.5].map(skewWarning)).toEqual([true, true]);
    expect([formatSkew(3.24), formatSkew(-12), formatSkew(0)]).toEqual(["+3.2", "-12.0", "0.0"]);
  });

  it("turn the online filter into the query parameter", () => {
    expect([onlineParam("all"), onlineParam("online"), onlineParam("offline")]).toEqual([undefined, true, false]);
  });

  it("re-read the list on device and bridge events, not on others", () => {
    expect(changesDevices({ type: "device.event" })).toBe(true);
    expect(changesDevices({ type: "bridge.offline" })).toBe(true);
    expect(changesDevices({ type: "hello" })).toBe(false);
    expect(changesDevices({ type: "notice.created" })).toBe(false);
  });
});
