import type { paths } from "@/api/schema";
import { i18n } from "@/i18n";
import { deviceKindLabel } from "@/devices";
import { yuanToFen } from "@/format";

type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;
export type AssetPage = Json<paths["/api/v1/ledger/assets"]["get"]["responses"][200]>;
export type Asset = AssetPage["items"][number];
export type AssetQuery = NonNullable<paths["/api/v1/ledger/assets"]["get"]["parameters"]["query"]>;
export type AssetStatus = Asset["status"];
export type HistoryEntry = Json<paths["/api/v1/ledger/assets/{asset_id}/history"]["get"]["responses"][200]>["items"][number];
export type Fault = Json<paths["/api/v1/alarms/device-faults/{device_id}"]["get"]["responses"][200]>["items"][number];
export type PartPage = Json<paths["/api/v1/ledger/parts"]["get"]["responses"][200]>;
export type Part = PartPage["items"][number];
export type MovementKind = "in" | "out" | "adjust";
export type AssetCosts = Json<paths["/api/v1/workorders/asset-costs/{asset_id}"]["get"]["responses"][200]>;
export type AssetCreateBody = NonNullable<paths["/api/v1/ledger/assets"]["post"]["requestBody"]>["content"]["application/json"];
export type AssetUpdateBody = NonNullable<
  paths["/api/v1/ledger/assets/{asset_id}"]["patch"]["requestBody"]
>["content"]["application/json"];

/** The lifecycle, in order (api/devices/ledger/lifecycle.py). */
export const STATUSES = ["in_stock", "installed", "in_service", "faulty", "under_repair", "retired"] as const;

/** The moves the server allows from each status (lifecycle.MOVES), in the order the buttons show. */
export const MOVES: Record<AssetStatus, readonly AssetStatus[]> = {
  in_stock: ["installed", "retired"],
  installed: ["in_service", "faulty", "in_stock", "retired"],
  in_service: ["faulty", "under_repair", "in_stock", "retired"],
  faulty: ["under_repair", "in_service", "retired"],
  under_repair: ["in_service", "faulty", "in_stock", "retired"],
  retired: [],
};

export function nextStatuses(status: AssetStatus): readonly AssetStatus[] {
  return MOVES[status];
}

/** Kinds of assets added by hand (ledger.schemas.ManualKind). */
export const MANUAL_KINDS = ["extinguisher", "hydrant", "elevator", "pump", "light", "gate", "fire_door", "other"] as const;
export type ManualKind = (typeof MANUAL_KINDS)[number];
export const START_STATUSES = ["in_stock", "installed", "in_service"] as const;

/** A kind's name: the ledger's own kinds, then the bridges' (门禁, 摄像机, …), else its code. */
export function assetKindLabel(kind: string): string {
  const { t, te } = i18n.global;
  const key = `ledger.kinds.${kind}`;
  return te(key) ? t(key) : deviceKindLabel(kind);
}

/** The Vant tag type of a status: red faulty, orange under repair, grey retired or in stock. */
export function statusTone(status: AssetStatus): "success" | "danger" | "warning" | "default" | "primary" {
  switch (status) {
    case "in_service":
      return "success";
    case "faulty":
      return "danger";
    case "under_repair":
      return "warning";
    case "installed":
      return "primary";
    default:
      return "default";
  }
}

/** Days before its end when a warranty counts as ending soon (the list's filter too). */
export const WARRANTY_SOON_DAYS = 30;

/** Whether a warranty has ended, ends within WARRANTY_SOON_DAYS of `today`, or neither. */
export function warrantyState(end: string | null, today: Date): "expired" | "soon" | null {
  if (!end) return null;
  const day = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const ends = Date.parse(`${end}T00:00:00Z`);
  if (ends < day) return "expired";
  return ends <= day + WARRANTY_SOON_DAYS * 86_400_000 ? "soon" : null;
}

/** Where an asset is, as a line: building, unit, floor, free text (as its label prints it). */
export function placeLine(asset: Pick<Asset, "building_name" | "unit_number" | "floor" | "location_text">): string {
  const { t } = i18n.global;
  return [
    asset.building_name ?? "",
    asset.unit_number ? t("ledger.unit", { n: asset.unit_number }) : "",
    asset.floor !== null ? t("ledger.floorN", { n: asset.floor }) : "",
    asset.location_text,
  ]
    .filter(Boolean)
    .join(" ");
}

export interface AssetForm {
  kind: string;
  name: string;
  building_id: string;
  floor: string;
  location_text: string;
  owner_party: string;
  user_party: string;
  om_party: string;
  vendor: string;
  model: string;
  serial_no: string;
  install_date: string;
  warranty_end: string;
  status: string;
  notes: string;
  purchase_cost: string; // yuan, as typed
}

type Problems<F extends string> = Partial<Record<F, string>>;

/** The form's own problems (i18n keys by field): a name, a kind, a whole floor, dates in order. */
export function checkAsset(form: AssetForm, isNew: boolean): Problems<keyof AssetForm> {
  const problems: Problems<keyof AssetForm> = {};
  if (!form.name.trim()) problems.name = "ledger.check.name";
  if (isNew && !(MANUAL_KINDS as readonly string[]).includes(form.kind)) problems.kind = "ledger.check.kind";
  if (form.floor.trim() && !/^-?\d{1,3}$/.test(form.floor.trim())) problems.floor = "ledger.check.floor";
  if (form.install_date && form.warranty_end && form.warranty_end < form.install_date) {
    problems.warranty_end = "ledger.check.warranty";
  }
  if (Number.isNaN(yuanToFen(form.purchase_cost))) problems.purchase_cost = "ledger.check.cost";
  return problems;
}

const TEXT_FIELDS = [
  "location_text",
  "owner_party",
  "user_party",
  "om_party",
  "vendor",
  "model",
  "serial_no",
  "notes",
] as const;

/** The body of an edit: the text fields trimmed, empty dates and floor as null; name and building
 * only for assets added by hand (a bridge sets its devices'). */
export function assetChanges(form: AssetForm, bridged: boolean): Record<string, string | number | null> {
  const body: Record<string, string | number | null> = {};
  for (const field of TEXT_FIELDS) body[field] = form[field].trim();
  body.floor = form.floor.trim() ? Number(form.floor.trim()) : null;
  body.install_date = form.install_date || null;
  body.warranty_end = form.warranty_end || null;
  body.purchase_cost = yuanToFen(form.purchase_cost);
  if (!bridged) {
    body.name = form.name.trim();
    body.building_id = form.building_id || null;
  }
  return body;
}

/** What a stock movement does to the stock, or null when it cannot (an out above the stock). */
export function stockAfter(stock: number, kind: MovementKind, quantity: number): number | null {
  if (!Number.isInteger(quantity) || quantity < 0) return null;
  if (kind === "adjust") return quantity;
  if (kind === "in") return stock + quantity;
  return quantity <= stock ? stock - quantity : null;
}

/** Trigger the browser's download of a file the API answered. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
