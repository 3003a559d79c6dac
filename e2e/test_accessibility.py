"""Every screen of every role passes axe-core's WCAG 2.0/2.1 A and AA rules (no serious or critical
violation), at phone (390×844) and desktop (1440×900) size, in Chinese and in English, and in
关怀模式 (elder mode: its own type, colours and targets; walked in Chinese).

The screens are derived from the router's route table (pwa/src/router.ts) and the roles' capability
pages (pwa/src/roles.ts): a new page a role reaches is walked without touching this file; a new
route with a parameter needs a way to fill it (`PARAMS`), and the suite fails until it has one.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from api.communities.tables import Household
from api.core.auth import Role
from api.intercom.tables import Call
from api.vehicles.tables import ParkingTicket, PassRecord, VehicleWarning
from device_bridge.identity import enroll
from device_bridge.settings import BridgeSettings
from e2e.conftest import PHONE
from e2e.pages import photo
from tests.fixtures import enrolment_token
from tests.helpers import (
    ApiClient,
    TestUser,
    World,
    build_world,
    eventually,
    make_account,
    raise_alarm,
    running,
    user,
)
from tests.patrol.helpers import set_up_patrol, tour_body
from tests.people.imports import csv_file, rows
from tests.visitors.helpers import book

ROOT = Path(__file__).resolve().parent.parent
PWA = ROOT / "pwa"
AXE = (PWA / "node_modules" / "axe-core" / "axe.min.js").read_text()
SIZES: dict[str, ViewportSize] = {
    "phone": {"width": PHONE["width"], "height": PHONE["height"]},
    "desktop": {"width": 1440, "height": 900},
}
LANGUAGES = ("zh-CN", "en")
# (language, 关怀模式 on): the mode changes colours and sizes, not words: one language shows it.
MODES = [(language, False) for language in LANGUAGES] + [("zh-CN", True)]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
CALLING = {"zh-CN": "管理处来电", "en": "The guard room is calling"}
PUBLIC = "public"  # a phone that is not signed in: the login page and a visitor's pass

# ---------------------------------------------------------------------------------------------
# The screens, read from the PWA's own sources.


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    public: bool = False
    role: str | None = None
    within: str | None = None
    also_for: tuple[str, ...] = ()


def routes() -> list[Route]:
    """The named routes of pwa/src/router.ts, with the meta the navigation guard reads."""
    source = (PWA / "src" / "router.ts").read_text()
    found = []
    for chunk in source.split('path: "')[1:]:
        head = re.match(r'([^"]+)",\s*name: "([^"]+)"', chunk)
        if not head:
            continue  # the shell and the catch-all redirect have no name of their own
        meta = re.search(r"meta: \{([^}]*)\}", chunk.split('path: "')[0])
        text = meta.group(1) if meta else ""
        role = re.search(r'role: "(\w+)"', text)
        within = re.search(r'within: "([\w-]+)"', text)
        also = re.search(r"alsoFor: \[([^\]]*)\]", text)
        found.append(
            Route(
                name=head.group(2),
                path=head.group(1),
                public="public: true" in text,
                role=role.group(1) if role else None,
                within=within.group(1) if within else None,
                also_for=tuple(re.findall(r'"(\w+)"', also.group(1))) if also else (),
            )
        )
    return found


def capabilities() -> dict[str, list[tuple[str, str | None]]]:
    """Each role's home tiles from pwa/src/roles.ts: (capability key, its built page or None)."""
    source = (PWA / "src" / "roles.ts").read_text()
    table = source.split("const CAPABILITIES")[1].split("\n};")[0]
    tile = re.compile(r'\{ key: "(\w+)", icon: "[^"]+"(?:, page: "([\w-]+)")? \}')
    return {
        role: [(key, page or None) for key, page in tile.findall(body)]
        for role, body in re.findall(r"(\w+): \[(.*?)\],?\n(?=  \w+:|$)", table + "\n", re.S)
    }


@dataclass(frozen=True)
class Screen:
    role: str
    route: str
    scene: str = ""  # a dialog or sheet opened on the screen (SCENES)

    @property
    def id(self) -> str:
        return f"{self.role}-{self.route}" + (f"-{self.scene}" if self.scene else "")


def reaches(role: str, route: Route, pages: set[str]) -> bool:
    """What pwa/src/navigation.ts decide() lets a role into."""
    if route.role:
        return route.role == role
    if route.within:
        return route.within in pages or role in route.also_for
    if route.name in ALL_PAGES:
        return route.name in pages
    return True


ROUTES = routes()
CAPABILITIES = capabilities()
ALL_PAGES = {page for tiles in CAPABILITIES.values() for _, page in tiles if page}

# Screens that show something only with a dialog or sheet open: (role, route) -> scene -> action.
Action = Callable[[Page], Awaitable[None]]


async def _click(page: Page, selector: str, shown: str) -> None:
    await page.locator(selector).first.click()
    await expect(page.locator(shown).first).to_be_visible()


def _tab(name: str) -> Action:
    return lambda page: _click(page, f".admin-tab-{name}", f"[data-test={name}-pane]")


async def _dry_run(page: Page) -> None:
    """A file with one bad row checked: the report, its table of bad rows and the mode choice."""
    body = rows(3)
    body[1][4] = "1234"
    payload = {"name": "住户.csv", "mimeType": "text/csv", "buffer": csv_file(body)}
    await page.locator("[data-test=import-file]").set_input_files(payload)  # type: ignore[arg-type]
    await page.locator("[data-test=import-check]").click()
    await expect(page.locator("[data-test=import-problems]")).to_be_visible()
    await expect(page.locator("[data-test=import-run]")).to_be_visible()


async def _police_search(page: Page) -> None:
    """The police's plate search with its results (the read the site bridge made, one off)."""
    await page.locator("[data-test=police-vehicles-plate] input").fill("川A77778")
    await page.locator("[data-test=police-vehicles-search]").click()
    await expect(page.locator("[data-test=police-vehicle-hit]").first).to_be_visible()


async def _police_stats_community(page: Page) -> None:
    """The police's statistics of one community (the first of their jurisdiction), charts drawn."""
    picker = page.locator("[data-test=police-vehicle-stats-community]")
    await expect(picker.locator("option").nth(1)).to_be_attached()
    await picker.select_option(index=1)
    await expect(page.locator("[data-test=police-vehicle-stats-daily]")).to_have_attribute(
        "data-ready", "true"
    )


def _rules_editor(tab: str, add: str, field: str) -> Action:
    async def open_editor(page: Page) -> None:
        await _click(page, f".rules-tab-{tab}", f"[data-test={tab}-pane]")
        await _click(page, f"[data-test={add}]", f"[data-test={field}]")

    return open_editor


async def _blacklist_form(page: Page) -> None:
    await _click(page, ".vadmin-tab-blacklist", "[data-test=blacklist-add]")
    await _click(page, "[data-test=blacklist-add]", "[data-test=vehicle-form-reason]")


SCENES: dict[tuple[str, str], dict[str, Action]] = {
    ("property_manager", "people-import"): {"dry-run": _dry_run},
    ("guard", "desk"): {
        "household-sheet": lambda p: _click(
            p, "[data-test=desk-household]", "[data-test=desk-household-sheet]"
        ),
        "inside": lambda p: _click(p, ".desk-tab-inside", "[data-test=desk-page]"),
    },
    ("property_manager", "access-log"): {
        "filters": lambda p: _click(p, "[data-test=log-filters]", "[data-test=log-filter-sheet]"),
    },
    ("guard", "lane-console"): {
        "arm-dialog": lambda p: _click(p, "[data-test=lane-lift]", "[data-test=arm-dialog]"),
        "correct-dialog": lambda p: _click(
            p, "[data-test=lane-correct]", "[data-test=correct-dialog]"
        ),
    },
    ("property_manager", "vehicle-records"): {
        "filters": lambda p: _click(
            p, "[data-test=vehicle-records-filters]", "[data-test=vehicle-records-sheet]"
        ),
    },
    ("property_manager", "vehicle-warnings"): {
        "dismiss-dialog": lambda p: _click(
            p, "[data-test=vehicle-warning-dismiss]", "[data-test=vehicle-warning-reason]"
        ),
    },
    ("police", "police-vehicles"): {"results": _police_search},
    # police-vehicle-stats (all of the jurisdiction) is walked from the route table; one community:
    ("police", "police-vehicle-stats"): {"community": _police_stats_community},
    ("guard", "door-control"): {
        "remote-dialog": lambda p: _click(
            p, "[data-test^=door-remote-]", "[data-test=remote-dialog]"
        ),
    },
    ("property_manager", "access-admin"): {
        tab: _tab(tab) for tab in ("groups", "schedules", "credentials")
    },
    ("property_manager", "places"): {
        "add-building": lambda p: _click(
            p, "[data-test=building-add]", "[data-test=building-form-number]"
        ),
    },
    ("property_manager", "place-building"): {
        "add-household": lambda p: _click(
            p, "[data-test^=household-add-]", "[data-test=household-form-room]"
        ),
        "household": lambda p: _click(p, "[data-test^=room-]", "[data-test=household-code]"),
    },
    ("property_manager", "residents"): {
        "person": lambda p: _click(p, "[data-test=resident-item]", "[data-test=person-move-out]"),
        "tree": lambda p: _click(
            p, "[data-test=household-tree] [role=radio] >> nth=1", "[data-test=tree-room-0101]"
        ),
    },
    ("property_manager", "maintenance-plans"): {
        "add": lambda p: _click(p, "[data-test=plan-add]", "[data-test=plan-form-name]"),
    },
    ("security_admin", "accounts"): {
        "add": lambda p: _click(p, "[data-test=account-add]", "[data-test=account-form-username]"),
        "account": lambda p: _click(p, "[data-test=account-item]", "[data-test=account-status]"),
    },
    ("property_manager", "rules"): {
        "editor": lambda p: _click(p, "[data-test=rule-add]", "[data-test=rule-preview]"),
        **{
            tab: lambda p, tab=tab: _click(p, f".rules-tab-{tab}", f"[data-test={tab}-pane]")
            for tab in ("zones", "plans", "roster")
        },
        "plan-editor": _rules_editor("plans", "plan-add", "plan-form-title"),
        "zone-editor": _rules_editor("zones", "zone-add", "zone-form-name"),
    },
    ("system_admin", "places"): {
        "add-community": lambda p: _click(
            p, "[data-test=community-add]", "[data-test=community-form-code]"
        ),
    },
    ("guard", "video-patrol"): {
        "report": lambda p: _click(p, "[data-test=tour-problem]", "[data-test=tour-report-form]"),
    },
    ("system_admin", "bridges"): {
        "add": lambda p: _click(p, "[data-test=bridge-add]", "[data-test=bridge-issue]"),
    },
    ("maintenance", "ledger"): {
        "add": lambda p: _click(p, "[data-test=ledger-add]", "[data-test=asset-form-name]"),
        "select": lambda p: _click(p, "[data-test=ledger-select]", "[data-test=ledger-print]"),
        "parts": lambda p: _click(p, ".ledger-tab-parts", "[data-test=ledger-parts]"),
    },
    ("maintenance", "ledger-asset"): {
        "edit": lambda p: _click(p, "[data-test=asset-edit]", "[data-test=asset-form-floor]"),
    },
    ("property_manager", "vehicle-admin"): {
        "add-park": lambda p: _click(p, "[data-test=park-add]", "[data-test=park-form-name]"),
        **{
            tab: lambda p, tab=tab: _click(p, f".vadmin-tab-{tab}", f"[data-test={tab}-pane]")
            for tab in ("registry", "blacklist")
        },
        "warnings": lambda p: _click(p, ".vadmin-tab-warnings", "[data-test=ws-save]"),
        "add-blacklist": _blacklist_form,
    },
    ("guard", "vehicle-admin"): {
        "registry": lambda p: _click(p, ".vadmin-tab-registry", "[data-test=registry-pane]"),
        "warnings": lambda p: _click(p, ".vadmin-tab-warnings", "[data-test=warning-settings]"),
    },
    ("property_manager", "vehicle-car-park"): {
        "correct": lambda p: _click(
            p, "[data-test=car-park-correct]", "[data-test=correct-counts-dialog]"
        ),
        "lane": lambda p: _click(p, "[data-test=lane-edit]", "[data-test=lane-edit-dialog]"),
    },
    ("property_manager", "vehicle-detail"): {
        "authorise": lambda p: _click(
            p, "[data-test=vehicle-step-authorise]", "[data-test=vehicle-step-dialog]"
        ),
    },
    ("guard", "alarm"): {
        "action-dialog": lambda p: _click(
            p, "[data-test=alarm-dispatch]", "[data-test=alarm-action-note]"
        ),
    },
}


def screens() -> list[Screen]:
    """Every (role, route) a signed-in role reaches, the public routes, and the SCENES."""
    found = [Screen(PUBLIC, r.name) for r in ROUTES if r.public and r.name != "offline"]
    found.append(Screen(PUBLIC, "offline"))
    for role, tiles in CAPABILITIES.items():
        pages = {page for _, page in tiles if page}
        for route in ROUTES:
            if route.public or (route.name == "feature" and all(page for _, page in tiles)):
                continue
            if reaches(role, route, pages):
                found.append(Screen(role, route.name))
                for scene in SCENES.get((role, route.name), {}):
                    found.append(Screen(role, route.name, scene))
    found.append(Screen("resident", "home", "incoming-call"))
    return found


SCREENS = screens()

# ---------------------------------------------------------------------------------------------
# What the screens show: a site with its bridge, an alarm, an SOS, a visitor, a call.


@dataclass
class Data:
    world: World
    alarm: UUID  # acknowledged by the guard: its page offers 派警
    home_alarm: UUID  # one of the resident's household
    sos: str
    visitor: str
    token: str
    call: UUID
    cameras: list[str]
    building: UUID  # site A's first building (the places console)
    workorder: str  # the resident's repair request, done (staff and the resident see it)
    asset: UUID  # a device of site A's bridge, in the ledger
    join_code: str  # site A's join link (a self-registration waits for its manager)
    label_code: str  # a light's QR label (a report from it waits for its manager)
    tracking_code: str  # that report's tracking code
    car_park: str  # the car park the platform made from the site's lanes (车辆管理)
    vehicle: str  # the resident's car, waiting for the manager's authorisation
    record: str  # an O&M incident of site A, linked to the alarm, with a handover beside it
    drill: str  # a fire drill of site A with its participants
    park_lane: str  # the car park's exit lane QR token (an unplated car's order waits there)
    park_order: str  # that order's token
    park_sim: str  # its reference at the simulated cashier
    plan: str  # a weekly camera maintenance plan of site A (its orders made at once)


def _feature(role: str) -> str:
    key = next(key for key, page in CAPABILITIES[role] if page is None)
    return f"/feature/{key}"


# How to fill a route's parameters (and query) for a role.
PARAMS: dict[str, Callable[[Data, str], str]] = {
    "pass": lambda d, _: f"/pass/{d.token}",
    "join": lambda d, _: f"/join/{d.join_code}",
    "report": lambda d, _: f"/report/{d.label_code}",
    "track": lambda d, _: f"/track/{d.tracking_code}",
    "park-lane": lambda d, _: f"/park/{d.park_lane}",
    "park-order": lambda d, _: f"/park/order/{d.park_order}",
    "park-sim": lambda d, _: f"/park/sim/{d.park_sim}",
    "alarm": lambda d, role: f"/alarms/{d.home_alarm if role == 'resident' else d.alarm}",
    "sos": lambda d, _: f"/sos/{d.sos}",
    "visitor": lambda d, _: f"/visitors/{d.visitor}",
    "call": lambda d, _: f"/calls/{d.call}",
    "camera-live": lambda d, _: "/cameras/live?ids=" + ",".join(d.cameras[:2]),
    "feature": lambda _, role: _feature(role),
    "place-community": lambda d, _: f"/places/communities/{d.world.a.community}",
    "place-building": lambda d, _: f"/places/buildings/{d.building}",
    "workorder": lambda d, _: f"/workorders/{d.workorder}",
    "maintenance-plan": lambda d, _: f"/workorders/plans/{d.plan}",
    "ledger-asset": lambda d, _: f"/ledger/assets/{d.asset}",
    "vehicle-car-park": lambda d, _: f"/vehicle-admin/car-parks/{d.car_park}",
    "vehicle-detail": lambda d, _: f"/vehicle-admin/vehicles/{d.vehicle}",
    "operation": lambda d, _: f"/operations/{d.record}",
    "drill": lambda d, _: f"/drills/{d.drill}",
}


async def self_registered(app: Litestar, manager: ApiClient, world: World) -> str:
    """Site A's join link, and one request filed through it (the manager's queue shows it)."""
    link = await manager.get(
        "/api/v1/join-requests/link", params={"community_id": str(world.a.community)}
    )
    code = str(link.json()["code"])
    places = (await manager.get(f"/api/v1/public/join/{code}")).json()
    phone = "137" + f"{secrets.randbelow(10**8):08d}"
    await manager.post(f"/api/v1/public/join/{code}/code", json={"phone": phone})
    found = re.search(r"\d{6}", app.state.sms.last(phone) or "")
    assert found
    body = {
        "unit_id": places["buildings"][0]["units"][0]["id"],
        "room": "0102",
        "name": "王小明",
        "phone": phone,
        "code": found.group(0),
        "username": f"wang-{uuid.uuid4().hex[:8]}",
        "password": "Join-Us-2026!x",
    }
    filed = await manager.post(f"/api/v1/public/join/{code}/requests", json=body)
    assert filed.status_code == 202, filed.text
    return code


async def reported_from_label(app: Litestar, manager: ApiClient, world: World) -> tuple[str, str]:
    """A light of site A with its QR label, and a report filed from it with a photo, then a
    second one (the manager's 扫码报修 queue shows both, the second as a possible duplicate):
    the label code and the tracking code of the first."""
    async for key in app.state.redis.scan_iter("anju:report:budget:*"):
        await app.state.redis.delete(key)
    made = await manager.post(
        "/api/v1/ledger/assets",
        json={
            "community_id": str(world.a.community),
            "kind": "light",
            "name": "2栋大堂吸顶灯",
            "location_text": "2栋一楼大堂",
        },
    )
    assert made.status_code == 201, made.text
    label = str(made.json()["label_code"])
    png = base64.b64encode(photo(640, 480)).decode()
    async with ApiClient.for_app(app) as stranger:
        filed = await stranger.post(
            f"/api/v1/public/report/{label}/requests",
            json={
                "description": "灯不亮",
                "phone": "13700001111",
                "photos": [{"content_type": "image/png", "data": png}],
            },
        )
        again = await stranger.post(  # a second report of it: the queue shows a duplicate
            f"/api/v1/public/report/{label}/requests",
            json={"description": "大堂灯坏了", "phone": "13700002222", "photos": []},
        )
    assert filed.status_code == 202, filed.text
    assert again.status_code == 202, again.text
    return label, str(filed.json()["tracking_code"])


async def site_car_park(manager: ApiClient, world: World) -> str:
    """The car park the platform made for the site's lanes, once the inventory is in."""

    async def made() -> str | None:
        r = await manager.get(
            "/api/v1/vehicle-lanes", params={"community_id": str(world.a.community)}
        )
        items = r.json()["items"]
        return str(items[0]["car_park_id"]) if items else None

    return str(await eventually(made))


async def operations_records(
    app: Litestar, manager: ApiClient, world: World, alarm: UUID
) -> tuple[str, str]:
    """An incident linked to the alarm, a fire drill, and a handover the guard must acknowledge."""
    incident = await manager.post(
        "/api/v1/operations/records",
        json={
            "title": "3栋视频中断",
            "community_id": str(world.a.community),
            "severity": "major",
            "details": {"kind": "incident", "impact": "3栋 12 路视频"},
            "links": [{"target_type": "alarm", "target_id": str(alarm)}],
        },
    )
    assert incident.status_code == 201, incident.text
    drill = await manager.post(
        "/api/v1/operations/drills",
        json={
            "kind": "fire_drill",
            "title": "消防疏散演练",
            "community_id": str(world.a.community),
            "held_at": datetime.now(UTC).isoformat(),
            "content": "模拟起火，疏散演练",
            "participant_ids": [str(world.a.users[Role.GUARD].id)],
        },
    )
    assert drill.status_code == 201, drill.text
    outgoing = await make_account(Role.GUARD, community=world.a.community)
    async with ApiClient.for_app(app) as colleague:
        await colleague.login(outgoing)
        handed = await colleague.post(
            "/api/v1/operations/handovers",
            json={"to_account_id": str(world.a.users[Role.GUARD].id), "notes": "无异常"},
        )
        assert handed.status_code == 201, handed.text
    return incident.json()["id"], drill.json()["id"]


async def parking_pages(app: Litestar, manager: ApiClient, world: World) -> tuple[str, str, str]:
    """The exit lane's QR page with an unplated car's order waiting (2 h in, a tariff set), the
    order's page and its cashier: (lane token, order token, reference)."""

    async def made() -> dict[str, Any] | None:
        r = await manager.get(
            "/api/v1/vehicle-lanes", params={"community_id": str(world.a.community)}
        )
        lanes = {lane["direction"]: lane for lane in r.json()["items"]}
        return lanes if len(lanes) == 2 else None

    lanes = await eventually(made)  # made after the bridge's inventory
    tariff = {"free_minutes": 15, "hourly_fen": 500, "daily_cap_fen": 3000}
    await manager.put(f"/api/v1/car-parks/{lanes['in']['car_park_id']}/tariff", json=tariff)
    tokens = {}
    for direction, lane in lanes.items():
        url = (await manager.get(f"/api/v1/vehicle-lanes/{lane['id']}/qr")).json()["url"]
        tokens[direction] = url.rsplit("/park/", 1)[1]
    park = "/api/v1/public/parking/lanes"
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"  # budgets are per address
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    async with ApiClient(transport=transport, base_url="http://testserver") as driver:
        ticket = (await driver.post(f"{park}/{tokens['in']}/tickets", json={})).json()
        await ParkingTicket.update(
            {ParkingTicket.entered_at: datetime.now(UTC) - timedelta(hours=2)}
        ).where(ParkingTicket.code == ticket["code"])
        left = await driver.post(f"{park}/{tokens['out']}/exit", json={"code": ticket["code"]})
    order = left.json()["order"]
    return tokens["out"], order["token"], order["payment_url"].rsplit("/park/sim/", 1)[1]


async def first_building(household: UUID) -> UUID:
    row = await Household.select(Household.building).where(Household.id == household).first()
    assert row is not None
    return UUID(str(row["building"]))


def path_of(screen: Screen, data: Data) -> str:
    if screen.route in PARAMS:
        return PARAMS[screen.route](data, screen.role)
    route = next(r for r in ROUTES if r.name == screen.route)
    return "/" + route.path.lstrip("/")


@pytest.fixture(scope="module")
async def data(app: Litestar, live_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    world = await build_world(app.state.cipher)
    async with ApiClient.for_app(app) as admin, ApiClient.for_app(app) as resident:
        await admin.login(world.admins[Role.SYSTEM_ADMIN])
        settings = BridgeSettings(
            platform_url=live_url,
            data_dir=tmp_path_factory.mktemp("a11y") / "bridge",
            heartbeat_interval=0.5,
            backoff_initial=0.05,
            backoff_max=0.5,
            log_json=False,
        )
        token = await enrolment_token(admin, world.a.community)
        await enroll(settings, token=token, name="site A")
        async with running(settings) as bridge:
            assert bridge.sim is not None
            await VehicleWarning(  # 车辆预警 shows one to dismiss
                community=world.a.community,
                kind="long_stay",
                plate_index=uuid.uuid4().hex,
                plate_masked="川A***88",
                reason="11-25 08:00 驶入地下车库，已停放 8 天（超过 7 天）",
                status="open",
                open_key=uuid.uuid4().hex,
                episode=uuid.uuid4().hex,
                raised_at=datetime.now(UTC),
            ).save()
            await resident.login(world.a.users[Role.RESIDENT])
            car = await resident.post("/api/v1/vehicles", json={"plate": "川A12345"})  # 我的车辆
            assert car.status_code == 201, car.text
            sos = (await resident.post("/api/v1/sos", json={"note": "老人摔倒"})).json()["id"]
            visitor = await book(resident, phone_key_allowed=True)  # the pass page offers a key
            share = (await resident.post(f"/api/v1/visitor-passes/{visitor['id']}/share")).json()
            call = Call(
                community=world.a.community,
                household=world.a.households[0],
                target="household",
                reason="visitor",
                room="1-1-0101",
                state="ended",
                started_at=datetime.now(UTC),
                ended_at=datetime.now(UTC),
                duration_s=0,
                outcome="unanswered",
            )
            await call.save()
            alarm = await raise_alarm(world.a.community)
            async with ApiClient.for_app(app) as guard:
                await guard.login(world.a.users[Role.GUARD])
                cameras = (await guard.get("/api/v1/cameras")).json()["items"]
                acknowledged = await guard.post(f"/api/v1/alarms/{alarm}/acknowledge", json={})
                assert acknowledged.status_code in (200, 201), acknowledged.text
            async with ApiClient.for_app(app) as manager:  # the guard's 巡更 shows a round
                await manager.login(world.a.users[Role.PROPERTY_MANAGER])
                await set_up_patrol(manager, world.a.community, [world.a.users[Role.GUARD].id])
                request = await resident.post(
                    "/api/v1/workorders",
                    json={"kind": "repair", "title": "楼道灯不亮", "description": "3楼"},
                )
                assert request.status_code == 201, request.text
                workorder = request.json()["id"]
                fixer = world.a.users[Role.MAINTENANCE]
                await manager.post(
                    f"/api/v1/workorders/{workorder}/assign", json={"assignee_id": str(fixer.id)}
                )
                tour = tour_body(world.a.community, [c["id"] for c in cameras[:2]])
                made = await manager.post("/api/v1/patrol/tours", json=tour)  # 视频巡查 is due
                assert made.status_code == 201, made.text
                join_code = await self_registered(app, manager, world)
                label_code, tracking_code = await reported_from_label(app, manager, world)
                car_park = await site_car_park(manager, world)
                record, drill = await operations_records(app, manager, world, alarm)
                park_lane, park_order, park_sim = await parking_pages(app, manager, world)
                plan = await manager.post(  # 保养计划: a plan's page shows its execution
                    "/api/v1/workorders/plans",
                    json={
                        "community_id": str(world.a.community),
                        "name": "摄像机周检",
                        "asset_kind": "camera",
                        "frequency": "weekly",
                        "starts_on": datetime.now(UTC).date().isoformat(),
                    },
                )
                assert plan.status_code == 201, plan.text
                # … then the lane console shows a read waiting for the guard (the entrance's last)
                await bridge.sim.read_plate("lpr-carpark", plate="川A77777", confidence=0.62)
                await eventually(
                    lambda: PassRecord.exists().where(
                        (PassRecord.community == world.a.community)
                        & (PassRecord.reason == "unknown")
                    )
                )
            yield Data(
                world=world,
                alarm=alarm,
                home_alarm=await raise_alarm(
                    world.a.community, "gas", household_id=world.a.households[0]
                ),
                sos=sos,
                visitor=visitor["id"],
                token=share["url"].rstrip("/").rsplit("/", 1)[-1],
                call=call.id,
                cameras=[c["id"] for c in cameras],
                building=await first_building(world.a.households[0]),
                workorder=workorder,
                asset=UUID(cameras[0]["id"]),
                join_code=join_code,
                label_code=label_code,
                tracking_code=tracking_code,
                car_park=car_park,
                vehicle=car.json()["id"],
                record=record,
                drill=drill,
                park_lane=park_lane,
                park_order=park_order,
                park_sim=park_sim,
                plan=plan.json()["id"],
            )


async def _sign_in(context: BrowserContext, account: TestUser) -> None:
    """Log the browser context in through the API (the cookies are the context's)."""
    await context.request.get("/api/v1/auth/me")

    async def post(url: str, body: dict[str, str]) -> Any:
        cookies = {c["name"]: c["value"] for c in await context.cookies()}
        answer = await context.request.post(
            url, data=body, headers={"x-csrftoken": cookies.get("csrftoken", "")}
        )
        assert answer.ok, await answer.text()
        return await answer.json()

    login = {"username": account.username, "password": account.password}
    if (await post("/api/v1/auth/login", login))["state"] == "totp_required":
        await post("/api/v1/auth/totp", {"code": account.totp_now()})


@pytest.fixture(scope="module")
async def pages(chromium: Browser, live_url: str, data: Data) -> AsyncIterator[Any]:
    """One signed-in page per role, opened once for the module."""
    opened: dict[str, Page] = {}

    async def page_of(role: str) -> Page:
        if role not in opened:
            context = await chromium.new_context(
                viewport=SIZES["phone"], base_url=live_url, locale="zh-CN", bypass_csp=True
            )
            if role != PUBLIC:
                await _sign_in(context, user(data.world, Role(role)))
            opened[role] = await context.new_page()
        return opened[role]

    yield page_of
    for page in opened.values():
        await page.context.close()


# ---------------------------------------------------------------------------------------------
# The check.


async def settled(page: Page) -> None:
    """The page has loaded what it shows and no transition is running (a pulse runs forever, and
    so does a countdown bar marked `data-ticking`, whose 1 s transition restarts every second)."""
    await page.wait_for_load_state("networkidle")
    await page.wait_for_function(
        """() => document.getAnimations().every(
            a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity
                 || a.effect?.target?.closest?.('[data-ticking]'))""",
        timeout=10_000,
    )


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the WCAG 2.x A/AA rules on the page."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE + "\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + '  ' +
                    (n.any[0]?.message ?? n.all[0]?.message ?? n.none[0]?.message ?? '')),
            }));
        }""",
        WCAG,
    )
    return [v for v in found if v["impact"] in BLOCKING]


def report(where: str, found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"][:8])
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


async def ring(data: Data) -> Call:
    """A call from the guard room ringing at the resident's household now."""
    call = Call(
        community=data.world.a.community,
        household=data.world.a.households[0],
        caller=data.world.a.users[Role.GUARD].id,
        target="household",
        reason="app",
        state="ringing",
        started_at=datetime.now(UTC),
    )
    await call.save()
    return call


@pytest.mark.parametrize("screen", SCREENS, ids=[s.id for s in SCREENS])
async def test_screen_has_no_serious_violation(
    screen: Screen, pages: Callable[[str], Awaitable[Page]], data: Data
) -> None:
    page = await pages(screen.role)
    path = path_of(screen, data)
    ringing = await ring(data) if screen.scene == "incoming-call" else None
    problems = []
    try:
        for language, elder in MODES:
            await page.set_viewport_size(SIZES["phone"])
            if not page.url.startswith("http"):
                await page.goto("/offline")  # the app's origin, for its local storage
            await page.evaluate(
                """([l, e]) => { localStorage.setItem('anju.locale', l);
                                 localStorage.setItem('anju.elder', e ? '1' : '0'); }""",
                [language, elder],
            )
            await page.goto(path)
            await settled(page)
            if elder:
                await expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
            mode = f"{language}{' 关怀模式' if elder else ''}"
            # The guard sends a role's page it may not open home: the table above must match.
            expected = path.split("?")[0]
            assert page.url.split("?")[0].endswith(expected), (page.url, expected)
            if screen.scene == "incoming-call":
                await expect(page.locator("[data-test=incoming-call]")).to_be_visible()
                said = CALLING[language]  # the screen reader is told who calls, at once
                await expect(page.locator("[data-test=live-assertive]")).to_contain_text(said)
            elif screen.scene:
                await SCENES[(screen.role, screen.route)][screen.scene](page)
            for size, viewport in SIZES.items():
                await page.set_viewport_size(viewport)
                await settled(page)
                if found := await violations(page):
                    problems.append(report(f"{screen.id} {size} {mode}", found))
    finally:
        if ringing is not None:
            await Call.update({Call.state: "ended", Call.outcome: "declined"}).where(
                Call.id == ringing.id
            )
    assert not problems, "\n" + "\n".join(problems)


def test_every_route_is_walked() -> None:
    """A route no screen covers, or one with a parameter nobody fills, fails here."""
    walked = {s.route for s in SCREENS}
    assert {r.name for r in ROUTES} - walked == set()
    unfilled = {r.name for r in ROUTES if ":" in r.path and r.name not in PARAMS}
    assert unfilled == set()
    assert set(CAPABILITIES) == {role.value for role in Role}
    pages = {page for tiles in CAPABILITIES.values() for _, page in tiles if page}
    assert pages <= {r.name for r in ROUTES}
