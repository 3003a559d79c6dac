import { describe, expect, it } from "vitest";
import en from "@/i18n/en";
import zhCN from "@/i18n/zh-CN";
import { ROLES } from "@/roles";

/** Every leaf of a message tree as "dotted.key" → text. */
function flatten(tree: object, prefix = ""): Map<string, string> {
  const leaves = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") leaves.set(path, value);
    else for (const [k, v] of flatten(value as object, path)) leaves.set(k, v);
  }
  return leaves;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("messages", () => {
  const zh = flatten(zhCN);
  const english = flatten(en);

  it("have the same keys in Chinese and English", () => {
    expect([...english.keys()].sort()).toEqual([...zh.keys()].sort());
  });

  it("use the same placeholders in both languages", () => {
    for (const [key, text] of zh) expect(placeholders(english.get(key) ?? ""), key).toEqual(placeholders(text));
  });

  it("leave no text empty", () => {
    for (const [key, text] of [...zh, ...english]) expect(text.trim(), key).not.toBe("");
  });

  it("escape a literal @ as {'@'}: a bare one starts a linked message and the page fails to render", () => {
    for (const [key, text] of [...zh, ...english]) expect(text.replace(/\{'[^']*'\}/g, ""), key).not.toContain("@");
  });

  it("name every role", () => {
    for (const role of ROLES) expect(zh.has(`roles.${role}`), role).toBe(true);
  });
});
