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

// Visitor passes (a resident's visitors, the guard's desk, the visitor's shared link).
export type VisitorPassQuery = NonNullable<paths["/api/v1/visitor-passes"]["get"]["parameters"]["query"]>;
export type VisitorPassPage = Json<paths["/api/v1/visitor-passes"]["get"]["responses"][200]>;
export type VisitorPass = VisitorPassPage["items"][number];
export type VisitorPassDetail = Json<paths["/api/v1/visitor-passes/{pass_id}"]["get"]["responses"][200]>;
export type PassAccessRecord = VisitorPassDetail["access_records"][number];
export type PublicPass = Json<paths["/api/v1/public/passes/{token}"]["get"]["responses"][200]>;
export type InsideVisitor = Json<paths["/api/v1/visitor-desk/inside"]["get"]["responses"][200]>["items"][number];
export type Household = Json<paths["/api/v1/households"]["get"]["responses"][200]>["items"][number];
export type BookingPlaces = Json<paths["/api/v1/visitor-passes/places"]["get"]["responses"][200]>;
export type Building = Json<paths["/api/v1/communities/{community_id}/buildings"]["get"]["responses"][200]>["items"][number];

// Access control: points, schedules, groups, credentials, the dynamic QR, guards' actions.
export type AccessPointPage = Json<paths["/api/v1/access-points"]["get"]["responses"][200]>;
export type AccessPoint = AccessPointPage["items"][number];
export type AccessPointCreate = NonNullable<
  paths["/api/v1/access-points"]["post"]["requestBody"]
>["content"]["application/json"];
export type AccessSchedule = Json<paths["/api/v1/access-schedules"]["get"]["responses"][200]>[number];
export type AccessWindow = AccessSchedule["windows"][number];
export type AccessGroup = Json<paths["/api/v1/access-groups"]["get"]["responses"][200]>[number];
export type CredentialQuery = NonNullable<paths["/api/v1/credentials"]["get"]["parameters"]["query"]>;
export type CredentialPage = Json<paths["/api/v1/credentials"]["get"]["responses"][200]>;
export type Credential = CredentialPage["items"][number];
export type CredentialCreate = NonNullable<
  paths["/api/v1/credentials"]["post"]["requestBody"]
>["content"]["application/json"];
export type AccessRecordQuery = NonNullable<paths["/api/v1/access-records"]["get"]["parameters"]["query"]>;
export type ReleaseResult = Json<paths["/api/v1/access/emergency-release"]["post"]["responses"][200]>;
export type Person = Json<paths["/api/v1/persons"]["get"]["responses"][200]>["items"][number];

// Patrol (docs/patrol.md).
export type PatrolRoundPage = Json<paths["/api/v1/patrol/rounds"]["get"]["responses"][200]>;
export type PatrolRound = PatrolRoundPage["items"][number];
export type PatrolScanCreate = NonNullable<
  paths["/api/v1/patrol/scans"]["post"]["requestBody"]
>["content"]["application/json"];
export type PatrolScan = Json<paths["/api/v1/patrol/scans"]["post"]["responses"][201]>;
export type PatrolArea = Json<paths["/api/v1/patrol/areas"]["get"]["responses"][200]>["items"][number];
export type PatrolCheckpoint = Json<paths["/api/v1/patrol/checkpoints"]["get"]["responses"][200]>["items"][number];
export type PatrolRoute = Json<paths["/api/v1/patrol/routes"]["get"]["responses"][200]>["items"][number];
export type PatrolPlan = Json<paths["/api/v1/patrol/plans"]["get"]["responses"][200]>["items"][number];
export type PatrolGuard = Json<paths["/api/v1/patrol/plans/guards"]["get"]["responses"][200]>[number];
export type PatrolPlanCreate = NonNullable<
  paths["/api/v1/patrol/plans"]["post"]["requestBody"]
>["content"]["application/json"];
// Places: the console's communities, buildings, units and households (docs/communities.md).
export type Unit = Json<paths["/api/v1/buildings/{building_id}/units"]["get"]["responses"][200]>["items"][number];
export type Housing = Household["housing"];

// Accounts: the security administrator's console (docs/accounts.md).
export type AccountPage = Json<paths["/api/v1/accounts"]["get"]["responses"][200]>;
export type Account = AccountPage["items"][number];
export type AccountRole = Account["roles"][number];
export type CommunityChoice = Json<paths["/api/v1/accounts/communities"]["get"]["responses"][200]>["items"][number];
export type PasswordReset = Json<paths["/api/v1/accounts/{account_id}/password-reset"]["post"]["responses"][200]>;

// Work orders (docs/workorders.md).
export type WorkOrderQuery = NonNullable<paths["/api/v1/workorders"]["get"]["parameters"]["query"]>;
export type WorkOrderPage = Json<paths["/api/v1/workorders"]["get"]["responses"][200]>;
export type WorkOrder = WorkOrderPage["items"][number];
export type WorkOrderDetail = Json<paths["/api/v1/workorders/{order_id}"]["get"]["responses"][200]>;
export type WorkOrderState = WorkOrder["state"];
export type WorkOrderKind = WorkOrder["kind"];
export type WorkOrderPriority = WorkOrder["priority"];
export type WorkOrderCreate = NonNullable<
  paths["/api/v1/workorders"]["post"]["requestBody"]
>["content"]["application/json"];
export type WorkOrderMove = NonNullable<
  paths["/api/v1/workorders/{order_id}/moves"]["post"]["requestBody"]
>["content"]["application/json"];
export type MaintenanceStaff = Json<paths["/api/v1/workorders/staff"]["get"]["responses"][200]>[number];
export type MaintenancePlan = Json<paths["/api/v1/workorders/plans"]["get"]["responses"][200]>["items"][number];
export type MaintenancePlanCreate = NonNullable<
  paths["/api/v1/workorders/plans"]["post"]["requestBody"]
>["content"]["application/json"];
export type MaintenancePlanPreview = Json<paths["/api/v1/workorders/plans/{maintenance_plan_id}/preview"]["get"]["responses"][200]>;
export type MaintenancePlanExecution = Json<paths["/api/v1/workorders/plans/{maintenance_plan_id}/execution"]["get"]["responses"][200]>;

// O&M records, duty handovers, drills and training (docs/operations.md).
export type OpsRecordQuery = NonNullable<paths["/api/v1/operations/records"]["get"]["parameters"]["query"]>;
export type OpsRecordPage = Json<paths["/api/v1/operations/records"]["get"]["responses"][200]>;
export type OpsRecord = OpsRecordPage["items"][number];
export type OpsRecordDetail = Json<paths["/api/v1/operations/records/{ops_record_id}"]["get"]["responses"][200]>;
export type OpsKind = OpsRecord["kind"];
export type OpsSeverity = OpsRecord["severity"];
export type OpsDetails = OpsRecord["details"];
export type OpsRecordCreate = NonNullable<
  paths["/api/v1/operations/records"]["post"]["requestBody"]
>["content"]["application/json"];
export type StaffMember = Json<paths["/api/v1/operations/records/staff"]["get"]["responses"][200]>[number];
export type Handover = Json<paths["/api/v1/operations/handovers"]["get"]["responses"][200]>["items"][number];
export type HandoverCreate = NonNullable<
  paths["/api/v1/operations/handovers"]["post"]["requestBody"]
>["content"]["application/json"];
export type DrillPage = Json<paths["/api/v1/operations/drills"]["get"]["responses"][200]>;
export type Drill = DrillPage["items"][number];
export type DrillDetail = Json<paths["/api/v1/operations/drills/{drill_id}"]["get"]["responses"][200]>;
export type DrillKind = Drill["kind"];
export type DrillCreate = NonNullable<
  paths["/api/v1/operations/drills"]["post"]["requestBody"]
>["content"]["application/json"];

// Vehicles: the guard's lane console, a household's cars and their passes (docs/vehicles.md).
export type LaneStatus = Json<paths["/api/v1/vehicle-lanes/console"]["get"]["responses"][200]>[number];
export type PassRecord = Json<paths["/api/v1/vehicle-passes"]["get"]["responses"][200]>["items"][number];
export type LaneActionResult = Json<paths["/api/v1/vehicle-lanes/{lane_id}/barrier"]["post"]["responses"][200]>;
export type Vehicle = Json<paths["/api/v1/vehicles"]["get"]["responses"][200]>["items"][number];
export type VehicleCreate = NonNullable<paths["/api/v1/vehicles"]["post"]["requestBody"]>["content"]["application/json"];
// The manager's 车辆管理: car parks, zones, lanes, the registry and the blacklist.
export type VehicleQuery = NonNullable<paths["/api/v1/vehicles"]["get"]["parameters"]["query"]>;
export type VehicleHistoryEntry = Json<paths["/api/v1/vehicles/{vehicle_id}/history"]["get"]["responses"][200]>[number];
export type CarPark = Json<paths["/api/v1/car-parks"]["get"]["responses"][200]>["items"][number];
export type CarParkGuidance = Json<paths["/api/v1/car-parks/{car_park_id}/guidance"]["get"]["responses"][200]>;
export type Lane = Json<paths["/api/v1/vehicle-lanes"]["get"]["responses"][200]>["items"][number];
export type WarningSettings = Json<
  paths["/api/v1/vehicle-warning-settings/{community_id}"]["get"]["responses"][200]
>;
export type WarningSettingsBody = NonNullable<
  paths["/api/v1/vehicle-warning-settings/{community_id}"]["put"]["requestBody"]
>["content"]["application/json"];

// Video patrol: camera tours and their runs (docs/patrol.md).
export type CameraTour = Json<paths["/api/v1/patrol/tours"]["get"]["responses"][200]>["items"][number];
export type CameraTourCreate = NonNullable<
  paths["/api/v1/patrol/tours"]["post"]["requestBody"]
>["content"]["application/json"];
export type TourRun = Json<paths["/api/v1/patrol/tour-runs"]["get"]["responses"][200]>["items"][number];
export type TourCheckCreate = NonNullable<
  paths["/api/v1/patrol/tour-runs/{run_id}/checks"]["post"]["requestBody"]
>["content"]["application/json"];
export type ComplianceRow = Json<paths["/api/v1/patrol/compliance"]["get"]["responses"][200]>["items"][number];
export type ComplianceQuery = NonNullable<paths["/api/v1/patrol/compliance"]["get"]["parameters"]["query"]>;
export type JoinPage = Json<paths["/api/v1/public/join/{code}"]["get"]["responses"][200]>;
export type JoinRequestPage = Json<paths["/api/v1/join-requests"]["get"]["responses"][200]>;
export type JoinRequest = JoinRequestPage["items"][number];
// Repair requests from QR labels (no login) and parts used on orders (docs/workorders.md).
export type ReportPage = Json<paths["/api/v1/public/report/{label_code}"]["get"]["responses"][200]>;
export type ReportCreate = NonNullable<paths["/api/v1/public/report/{label_code}/requests"]["post"]["requestBody"]>["content"]["application/json"];
export type ReportFiled = Json<paths["/api/v1/public/report/{label_code}/requests"]["post"]["responses"][202]>;
export type ReportTrack = Json<paths["/api/v1/public/track/{tracking_code}"]["get"]["responses"][200]>;
export type LabelRequestPage = Json<paths["/api/v1/label-requests"]["get"]["responses"][200]>;
export type LabelRequest = LabelRequestPage["items"][number];
export type WorkOrderPart = WorkOrderDetail["parts"][number];

// Temporary parking and payment (VEH-05), unplated cars (VEH-16): the lanes' public QR pages.
export type PublicLane = Json<paths["/api/v1/public/parking/lanes/{token}"]["get"]["responses"][200]>;
export type PublicOrder = Json<paths["/api/v1/public/parking/orders/{token}"]["get"]["responses"][200]>;
export type PublicTicket = Json<paths["/api/v1/public/parking/lanes/{token}/tickets"]["post"]["responses"][200]>;
export type ExitResult = Json<paths["/api/v1/public/parking/lanes/{token}/exit"]["post"]["responses"][200]>;
export type SimCharge = Json<paths["/api/v1/public/parking/sim/{reference}"]["get"]["responses"][200]>;
export type Tariff = NonNullable<paths["/api/v1/car-parks/{car_park_id}/tariff"]["put"]["requestBody"]>["content"]["application/json"];
export type ParkingOrder = Json<paths["/api/v1/parking-orders"]["get"]["responses"][200]>["items"][number];
