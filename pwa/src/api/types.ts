import type { paths } from "./schema";

/** The JSON body of a response object from the generated schema. */
type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;

// Derived from paths, not from component names, so the types survive regeneration from the real spec.
export type Me = Json<paths["/api/v1/auth/me"]["get"]["responses"][200]>;
export type RoleAssignment = Me["roles"][number];
export type Role = RoleAssignment["role"];
export type LoginResult = Json<paths["/api/v1/auth/login"]["post"]["responses"][200]>;
export type TotpResult = Json<paths["/api/v1/auth/totp"]["post"]["responses"][200]>;
export type AuthState = LoginResult["state"];
export type AuditQuery = NonNullable<paths["/api/v1/audit"]["get"]["parameters"]["query"]>;
export type AuditPage = Json<paths["/api/v1/audit"]["get"]["responses"][200]>;
export type AuditEntry = AuditPage["items"][number];

// Doors and the access log.
export type Door = Json<paths["/api/v1/doors"]["get"]["responses"][200]>[number];
export type DoorOpenResult = Json<paths["/api/v1/doors/{device_id}/open"]["post"]["responses"][200]>;
export type AccessRecordPage = Json<paths["/api/v1/access-records"]["get"]["responses"][200]>;
export type AccessRecord = AccessRecordPage["items"][number];

// Devices and the bridges that link them.
export type DeviceQuery = NonNullable<paths["/api/v1/devices"]["get"]["parameters"]["query"]>;
export type DevicePage = Json<paths["/api/v1/devices"]["get"]["responses"][200]>;
export type Device = DevicePage["items"][number];
export type BridgePage = Json<paths["/api/v1/bridges"]["get"]["responses"][200]>;
export type Bridge = BridgePage["items"][number];
export type EnrolmentToken = Json<paths["/api/v1/bridges/enrolment-tokens"]["post"]["responses"][201]>;
export type Community = Json<paths["/api/v1/communities"]["get"]["responses"][200]>["items"][number];

// Alarms (the guard's board and its detail) and a resident's SOS.
export type AlarmQuery = NonNullable<paths["/api/v1/alarms"]["get"]["parameters"]["query"]>;
export type AlarmPage = Json<paths["/api/v1/alarms"]["get"]["responses"][200]>;
export type Alarm = AlarmPage["items"][number];
export type AlarmState = Alarm["state"];
export type AlarmType = Alarm["type"];
export type Severity = Alarm["severity"];
export type AlarmDetail = Json<paths["/api/v1/alarms/{alarm_id}"]["get"]["responses"][200]>;
export type ChecklistStep = AlarmDetail["checklist"][number];
export type AlarmMedia = AlarmDetail["media"][number];
export type TimelineEntry = AlarmDetail["timeline"][number];
export type MediaUpload = NonNullable<
  paths["/api/v1/alarms/{alarm_id}/media"]["post"]["requestBody"]
>["content"]["application/json"];
export type OnDuty = Json<paths["/api/v1/duty-shifts/on-duty"]["get"]["responses"][200]>[number];
export type SosCreate = NonNullable<paths["/api/v1/sos"]["post"]["requestBody"]>["content"]["application/json"];
export type Sos = Json<paths["/api/v1/sos/{alarm_id}"]["get"]["responses"][200]>;
export type SosEntry = Sos["timeline"][number];

// Web push.
export type PushSubscriptionBody = NonNullable<
  paths["/api/v1/push/subscriptions"]["post"]["requestBody"]
>["content"]["application/json"];
