import { createRouter, createWebHistory } from "vue-router";
import type { Role } from "@/api/types";
import { decide } from "@/navigation";
import type { Page } from "@/roles";
import { useSession } from "@/stores/session";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
    /** Only while acting as this role. */
    role?: Role;
    /** Part of a capability page: open to the roles that reach that page (and to `alsoFor`). */
    within?: Page;
    alsoFor?: readonly Role[];
  }
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: "/login", name: "login", component: () => import("@/views/auth/LoginView.vue"), meta: { public: true } },
    { path: "/offline", name: "offline", component: () => import("@/views/OfflineView.vue"), meta: { public: true } },
    // A visitor's pass, opened from a shared link on the visitor's own phone: no account, no shell.
    { path: "/join/:code", name: "join", component: () => import("@/views/join/JoinView.vue"), meta: { public: true } },
    { path: "/pass/:token", name: "pass", component: () => import("@/views/pass/PassView.vue"), meta: { public: true } },
    // An asset's QR label opens its report page; the requester follows it by a tracking code (docs/workorders.md).
    { path: "/report/:code", name: "report", component: () => import("@/views/report/ReportView.vue"), meta: { public: true } },
    { path: "/track/:token", name: "track", component: () => import("@/views/report/TrackView.vue"), meta: { public: true } },
    // A lane's QR at the car park (unplated cars, paying at the exit), an order, the demo cashier.
    { path: "/park/order/:token", name: "park-order", component: () => import("@/views/park/ParkOrderView.vue"), meta: { public: true } },
    { path: "/park/sim/:reference", name: "park-sim", component: () => import("@/views/park/SimPayView.vue"), meta: { public: true } },
    { path: "/park/:token", name: "park-lane", component: () => import("@/views/park/ParkLaneView.vue"), meta: { public: true } },
    {
      path: "/",
      component: () => import("@/views/ShellLayout.vue"),
      redirect: { name: "home" },
      children: [
        { path: "home", name: "home", component: () => import("@/views/HomeView.vue") },
        { path: "profile", name: "profile", component: () => import("@/views/ProfileView.vue") },
        {
          path: "audit",
          name: "audit",
          component: () => import("@/views/audit_admin/AuditLogView.vue"),
          meta: { role: "audit_admin" },
        },
        // Capability pages: the guard lets in the roles whose capabilities lead there (see roles.ts).
        { path: "doors", name: "doors", component: () => import("@/views/resident/DoorsView.vue") },
        { path: "devices", name: "devices", component: () => import("@/views/devices/DevicesView.vue") },
        { path: "bridges", name: "bridges", component: () => import("@/views/system_admin/BridgesView.vue") },
        { path: "alarms", name: "alarms", component: () => import("@/views/alarms/AlarmBoardView.vue") },
        {
          // Push notifications link here; a resident opens the alarms of their own household (read only).
          path: "alarms/:id",
          name: "alarm",
          component: () => import("@/views/alarms/AlarmDetailView.vue"),
          meta: { within: "alarms", alsoFor: ["resident"] },
        },
        {
          path: "sos/:id",
          name: "sos",
          component: () => import("@/views/resident/SosStatusView.vue"),
          meta: { role: "resident" },
        },
        // Access control and visitors (docs/access.md, docs/visitors.md).
        { path: "qr", name: "qr", component: () => import("@/views/access/MyQrView.vue") },
        { path: "visitors", name: "visitors", component: () => import("@/views/visitors/VisitorsView.vue") },
        {
          path: "visitors/new",
          name: "visitor-book",
          component: () => import("@/views/visitors/VisitorBookView.vue"),
          meta: { within: "visitors" },
        },
        {
          // Push notifications (arrival, a walk-in asking for consent) link here.
          path: "visitors/:id",
          name: "visitor",
          component: () => import("@/views/visitors/VisitorDetailView.vue"),
          meta: { within: "visitors" },
        },
        { path: "desk", name: "desk", component: () => import("@/views/visitors/VisitorDeskView.vue") },
        { path: "door-control", name: "door-control", component: () => import("@/views/access/DoorControlView.vue") },
        { path: "access-admin", name: "access-admin", component: () => import("@/views/access/AccessAdminView.vue") },
        { path: "access-log", name: "access-log", component: () => import("@/views/access/AccessLogView.vue") },
        // Vehicles: the guard's lane console, a resident's cars (docs/vehicles.md).
        { path: "lane-console", name: "lane-console", component: () => import("@/views/vehicles/LaneConsoleView.vue") },
        { path: "my-cars", name: "my-cars", component: () => import("@/views/vehicles/MyCarsView.vue") },
        // The manager's 车辆管理 (guards read it): car parks, the registry, the blacklist.
        { path: "vehicle-admin", name: "vehicle-admin", component: () => import("@/views/vehicles/admin/VehicleAdminView.vue") },
        {
          path: "vehicle-admin/car-parks/:id",
          name: "vehicle-car-park",
          component: () => import("@/views/vehicles/admin/CarParkView.vue"),
          props: true,
          meta: { within: "vehicle-admin" },
        },
        {
          path: "vehicle-admin/vehicles/:id",
          name: "vehicle-detail",
          component: () => import("@/views/vehicles/admin/VehicleView.vue"),
          props: true,
          meta: { within: "vehicle-admin" },
        },
        // The managers' pass records, print view, statistics and warnings; the police's plate search
        // and statistics.
        {
          path: "vehicles/records",
          name: "vehicle-records",
          component: () => import("@/views/vehicles/records/PassRecordsView.vue"),
        },
        {
          path: "vehicles/records/print",
          name: "vehicle-records-print",
          component: () => import("@/views/vehicles/records/PassPrintView.vue"),
          meta: { within: "vehicle-records" },
        },
        {
          path: "vehicles/statistics",
          name: "vehicle-stats",
          component: () => import("@/views/vehicles/records/PassStatsView.vue"),
        },
        {
          // The warnings' pushes link here.
          path: "vehicles/warnings",
          name: "vehicle-warnings",
          component: () => import("@/views/vehicles/records/VehicleWarningsView.vue"),
        },
        {
          path: "police/vehicles",
          name: "police-vehicles",
          component: () => import("@/views/police/VehicleSearchView.vue"),
        },
        {
          path: "police/vehicles/statistics",
          name: "police-vehicle-stats",
          component: () => import("@/views/police/VehicleStatsView.vue"),
          meta: { within: "police-vehicles" },
        },
        // Intercom and live video (docs/intercom.md).
        { path: "calls", name: "calls", component: () => import("@/views/intercom/CallHistoryView.vue") },
        {
          // Call notifications link here; guards reach their calls from the intercom centre.
          path: "calls/:id",
          name: "call",
          component: () => import("@/views/intercom/CallView.vue"),
          meta: { within: "calls", alsoFor: ["guard"] },
        },
        { path: "intercom", name: "intercom", component: () => import("@/views/intercom/IntercomCenterView.vue") },
        { path: "cameras", name: "cameras", component: () => import("@/views/video/CamerasView.vue") },
        {
          path: "cameras/live",
          name: "camera-live",
          component: () => import("@/views/video/LiveView.vue"),
          meta: { within: "cameras" },
        },
        // Patrol (docs/patrol.md).
        { path: "patrol", name: "patrol", component: () => import("@/views/patrol/PatrolView.vue") },
        { path: "patrol-admin", name: "patrol-admin", component: () => import("@/views/patrol/PatrolAdminView.vue") },
        // Work orders and the fault archive (docs/workorders.md).
        { path: "workorders", name: "workorders", component: () => import("@/views/workorders/WorkOrdersView.vue") },
        {
          path: "workorders/new",
          name: "workorder-new",
          component: () => import("@/views/workorders/WorkOrderNewView.vue"),
          meta: { within: "workorders" },
        },
        // A manager's preventive maintenance plans (保养计划).
        { path: "workorders/plans", name: "maintenance-plans", component: () => import("@/views/workorders/MaintenancePlansView.vue") },
        {
          // One plan: how it is being carried out (its orders by outcome over a period).
          path: "workorders/plans/:id",
          name: "maintenance-plan",
          component: () => import("@/views/workorders/MaintenancePlanView.vue"),
          meta: { within: "maintenance-plans" },
        },
        {
          // Push notifications (a new order, an assignment, a request done) link here.
          path: "workorders/:id",
          name: "workorder",
          component: () => import("@/views/workorders/WorkOrderDetailView.vue"),
          meta: { within: "workorders" },
        },
        {
          path: "label-requests",
          name: "label-requests",
          component: () => import("@/views/workorders/LabelRequestsView.vue"),
          meta: { role: "property_manager" },
        },
        { path: "faults", name: "faults", component: () => import("@/views/workorders/FaultArchiveView.vue") },
        // O&M records, the duty handover log, drills and training (docs/operations.md).
        { path: "operations", name: "operations", component: () => import("@/views/operations/OpsRecordsView.vue") },
        {
          path: "operations/new",
          name: "operation-new",
          component: () => import("@/views/operations/OpsRecordNewView.vue"),
          meta: { within: "operations" },
        },
        {
          path: "operations/:id",
          name: "operation",
          component: () => import("@/views/operations/OpsRecordDetailView.vue"),
          meta: { within: "operations" },
        },
        // Push notifications of a handover link here.
        { path: "handovers", name: "handovers", component: () => import("@/views/operations/HandoversView.vue") },
        { path: "drills", name: "drills", component: () => import("@/views/operations/DrillsView.vue") },
        {
          path: "drills/new",
          name: "drill-new",
          component: () => import("@/views/operations/DrillNewView.vue"),
          meta: { within: "drills" },
        },
        {
          path: "drills/:id",
          name: "drill",
          component: () => import("@/views/operations/DrillDetailView.vue"),
          meta: { within: "drills" },
        },
        { path: "video-patrol", name: "video-patrol", component: () => import("@/views/patrol/VideoPatrolView.vue") },
        // The console's places: communities, buildings, units, households (docs/communities.md).
        { path: "places", name: "places", component: () => import("@/views/places/PlacesView.vue") },
        {
          path: "places/communities/:id",
          name: "place-community",
          component: () => import("@/views/places/CommunityView.vue"),
          props: true,
          meta: { within: "places" },
        },
        {
          path: "places/buildings/:id",
          name: "place-building",
          component: () => import("@/views/places/BuildingView.vue"),
          props: true,
          meta: { within: "places" },
        },
        // The manager's bulk import of households and residents (docs/people.md).
        {
          path: "people/import",
          name: "people-import",
          component: () => import("@/views/people/ImportView.vue"),
          meta: { role: "property_manager" },
        },
        // The equipment ledger: assets, their lifecycle, spare parts, QR labels (docs/devices.md).
        { path: "ledger", name: "ledger", component: () => import("@/views/ledger/LedgerView.vue") },
        {
          path: "ledger/assets/:id",
          name: "ledger-asset",
          component: () => import("@/views/ledger/AssetView.vue"),
          props: true,
          meta: { within: "ledger" },
        },
        // The security administrator's accounts (docs/accounts.md).
        { path: "accounts", name: "accounts", component: () => import("@/views/accounts/AccountsView.vue") },
        // The manager's 规则: linkage rules (docs/alarms.md).
        { path: "rules", name: "rules", component: () => import("@/views/rules/RulesView.vue") },
        // The residents registry (docs/people.md).
        { path: "residents", name: "residents", component: () => import("@/views/residents/ResidentsView.vue") },
        {
          path: "join-requests",
          name: "join-requests",
          component: () => import("@/views/residents/JoinRequestsView.vue"),
          meta: { role: "property_manager" },
        },
        // The security administrator's security policy (docs/security.md).
        { path: "security-policy", name: "security-policy", component: () => import("@/views/security/SecurityPolicyView.vue") },
        { path: "feature/:key", name: "feature", component: () => import("@/views/ComingSoonView.vue") },
      ],
    },
    { path: "/:unknown(.*)*", redirect: { name: "home" } },
  ],
});

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.loaded && to.name !== "offline") {
    try {
      await session.load();
    } catch {
      // The network is down: the service worker still serves the shell, so say so.
      return { name: "offline", query: { redirect: to.fullPath } };
    }
  }
  return decide(to, { signedIn: session.signedIn, role: session.role });
});
