import { describe, expect, it } from "vitest";
import { decide, type Destination } from "@/navigation";
import { capabilityForPage, hasPage, ROLES } from "@/roles";
import { MAX_VIEWS, parseIds, toggleSelection } from "@/views/video/cameras";

function to(name: string, meta: Destination["meta"] = {}): Destination {
  return { name, fullPath: `/${name}`, params: {}, meta };
}

describe("intercom and video pages", () => {
  it("gives residents their call history (managers the community's), guards the intercom centre", () => {
    expect(ROLES.filter((role) => hasPage(role, "calls")).sort()).toEqual(["property_manager", "resident"]);
    expect(ROLES.filter((role) => hasPage(role, "intercom"))).toEqual(["guard"]);
    expect(capabilityForPage("resident", "calls")?.key).toBe("calls");
  });

  it("gives live video to guards, property managers and police", () => {
    expect(ROLES.filter((role) => hasPage(role, "cameras")).sort()).toEqual(["guard", "police", "property_manager"]);
  });

  it("opens a call's page to residents and guards only", () => {
    const call = to("call", { within: "calls", alsoFor: ["guard"] });
    expect(decide(call, { signedIn: true, role: "resident" })).toBe(true);
    expect(decide(call, { signedIn: true, role: "guard" })).toBe(true);
    expect(decide(call, { signedIn: true, role: "police" })).toEqual({ name: "home" });
    expect(decide(to("camera-live", { within: "cameras" }), { signedIn: true, role: "resident" })).toEqual({ name: "home" });
  });
});

describe("camera selection", () => {
  it("reads the cameras of a live-view address, unique and at most four", () => {
    expect(parseIds("a,b,,a, c")).toEqual(["a", "b", "c"]);
    expect(parseIds(["a,b", "c,d,e"])).toEqual(["a", "b", "c", "d"].slice(0, MAX_VIEWS));
    expect(parseIds(undefined)).toEqual([]);
  });

  it("adds and removes cameras, refusing a fifth", () => {
    let picked: string[] = [];
    for (const id of ["a", "b", "c", "d", "e"]) picked = toggleSelection(picked, id);
    expect(picked).toEqual(["a", "b", "c", "d"]);
    expect(toggleSelection(picked, "b")).toEqual(["a", "c", "d"]);
  });
});
