"""The single Piccolo app: every table of every domain, migrations under ./migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from api.access.tables import (
    AccessGroup,
    AccessPoint,
    AccessRecord,
    AccessSchedule,
    BridgeCredentials,
    Credential,
    CredentialChange,
)
from api.accounts.joining.tables import JoinLink, JoinRequest
from api.accounts.tables import Account, RecoveryCode, RoleAssignment, SecurityPolicyRow
from api.alarms.tables import (
    Alarm,
    AlarmEntry,
    BridgeRules,
    DutyShift,
    EmergencyPlan,
    IntrusionZone,
    LinkageRule,
    LinkageRun,
    ZoneSchedule,
)
from api.audit.tables import AuditEntry
from api.biometrics.tables import FacePlacement, FaceTemplate
from api.communities.tables import Building, Community, Household, Jurisdiction, Unit
from api.devices.tables import (
    AssetHistory,
    Bridge,
    Device,
    DeviceCommand,
    DeviceEvent,
    EnrolmentToken,
    SparePart,
    StockMovement,
)
from api.intercom.tables import Call
from api.operations.tables import (
    Drill,
    DrillAttachment,
    DrillParticipant,
    Handover,
    OpsRecord,
    OpsRecordEntry,
    OpsRecordLink,
)
from api.patrol.tables import (
    CameraTour,
    Checkpoint,
    PatrolArea,
    PatrolPlan,
    PatrolRound,
    PatrolRoute,
    PatrolScan,
    TourCheck,
    TourRun,
)
from api.people.imports.tables import PersonImport
from api.people.tables import Person
from api.push.tables import Notification, PushSubscription
from api.vehicles.tables import (
    CarPark,
    Lane,
    ParkingOrder,
    ParkingTicket,
    PassRecord,
    Vehicle,
    VehicleWarning,
    WarningSettings,
)
from api.video.tables import ViewSession
from api.visitors.tables import VisitorPass
from api.workorders.tables import (
    LabelRequest,
    MaintenancePlan,
    WorkLog,
    WorkOrder,
    WorkOrderEntry,
    WorkOrderPhoto,
)

APP_CONFIG = AppConfig(
    app_name="anju",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=[
        Jurisdiction,
        Community,
        Building,
        Unit,
        Household,
        Person,
        PersonImport,
        Account,
        JoinLink,
        JoinRequest,
        RoleAssignment,
        RecoveryCode,
        SecurityPolicyRow,
        AuditEntry,
        Bridge,
        EnrolmentToken,
        Device,
        AssetHistory,
        SparePart,
        StockMovement,
        DeviceEvent,
        DeviceCommand,
        AccessRecord,
        PushSubscription,
        Notification,
        IntrusionZone,
        ZoneSchedule,
        Alarm,
        AlarmEntry,
        EmergencyPlan,
        LinkageRule,
        LinkageRun,
        BridgeRules,
        DutyShift,
        AccessPoint,
        AccessSchedule,
        AccessGroup,
        Credential,
        CredentialChange,
        BridgeCredentials,
        FaceTemplate,
        FacePlacement,
        Call,
        ViewSession,
        VisitorPass,
        Vehicle,
        CarPark,
        Lane,
        PassRecord,
        ParkingTicket,
        ParkingOrder,
        VehicleWarning,
        WarningSettings,
        PatrolArea,
        Checkpoint,
        PatrolRoute,
        PatrolPlan,
        PatrolRound,
        PatrolScan,
        MaintenancePlan,
        WorkOrder,
        WorkOrderEntry,
        WorkLog,
        WorkOrderPhoto,
        LabelRequest,
        CameraTour,
        TourRun,
        TourCheck,
        OpsRecord,
        OpsRecordEntry,
        OpsRecordLink,
        Handover,
        Drill,
        DrillParticipant,
        DrillAttachment,
    ],
)
