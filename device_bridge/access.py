"""Access decisions at the bridge: a card, PIN, keypad code, dynamic QR or face at a reader.

`AccessControl.present(door, method, value, direction, floor)` decides from the credential cache
(`access_cache.py`), link or no link; what the cache cannot decide (a credential it has never seen)
goes to the platform as an `AccessQuery` when the link is up, answered within `QUERY_TIMEOUT`. The
decision is recorded as `access.granted` / `access.denied` (through the outbox, so records made
offline arrive when the link returns), five denials in a row at one reader add
`access.failed_reads`, a grant opens the door (or calls the lift to the floor) and a refusal is
shown at the reader (`indicate`: red light, beeps), both through the runtime's command path.

The checks, in order: the credential is known (by digest for card / PIN / keypad code, by the
signed QR's `cred` or a phone key's code, by id for a face match), a keypad code, QR token or
phone-key code not already used (at any reader of the site: each is one passage), this door
(and floor), its validity period, its weekly schedule and holidays in the site's time zone,
passes left.
A visitor pass is one credential of kind "code", found by its keypad codes and by QR tokens naming
it. Passes left (`uses`) are entries: only a granted "in" at one of the entry's `entry_doors` (a
visitor's gates; none listed: every door) uses one, and only there does "no uses left" refuse, so a
visitor who came in on their last entry still opens the unit door, calls the lift and goes out.
Face devices match the face themselves and present the template id they matched, which the cache
holds as the digest of `face:<template id>` (or the credential id itself). Fingerprint readers
likewise match the finger and present the template id they gave it at enrolment, held as the
digest of `fingerprint:<template id>`, found like a card.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import structlog
from cryptography.exceptions import InvalidSignature

from device_bridge import protocol as p
from device_bridge.access_cache import CredentialCache, Held, Use

log = structlog.get_logger(__name__)

Method = Literal["card", "pin", "qr", "face", "code", "fingerprint"]
METHODS: tuple[Method, ...] = ("card", "pin", "qr", "face", "code", "fingerprint")
REASONS = frozenset(
    {
        "unknown",
        "revoked",
        "expired",
        "not_yet_valid",
        "not_this_door",
        "out_of_schedule",
        "no_uses_left",
        "qr_forged",
        "qr_unknown_key",
        "qr_expired",
        "qr_reused",
        "code_used",
        "platform_denied",
    }
)
FAILED_READS = 5  # consecutive denials at one reader that raise access.failed_reads
DENIED_SIGNAL = {"light": "red", "beeps": 3}
"""What a reader shows and sounds for a refusal (`indicate`; a grant shows by opening)."""
QUERY_TIMEOUT = 1.5  # seconds the platform has to answer an AccessQuery
QR_EARLY = 5.0  # seconds a QR's iat may be ahead of the bridge's (platform) clock
KEYPAD: tuple[Method, ...] = ("pin", "code")  # a keypad cannot tell a PIN from a visitor code
QR_KINDS = ("qr", "code")  # a QR token may name a resident's QR identity or a visitor pass
SITE = "*"
"""Where a used QR nonce is kept: the whole site, not one reader. A token is one passage, like a
keypad code: a photo of the screen must not open another door within the token's 60 s."""

Record = Callable[[str, str, dict[str, Any]], Awaitable[int]]
"""Commit an event (kind, device, data) to the outbox; its seq."""
Execute = Callable[[str, str, dict[str, Any]], Awaitable[p.CommandResult]]
"""Run an action on a device (device, action, args) through the runtime's command path."""
Query = Callable[[p.AccessQuery, float], Awaitable[p.AccessAnswer | None]]
"""Ask the platform (frame, timeout); None when the link is down or no answer came in time."""


@dataclass(slots=True)
class Decision:
    """What the bridge decided for one presentation."""

    granted: bool
    method: Method
    reason: str = ""  # why not (one of REASONS)
    credential: str = ""
    person: str = ""
    visitor_pass: str = ""
    decided_by: Literal["bridge", "platform"] = "bridge"
    counter: int | None = None  # the keypad code's HOTP counter
    floor: int | None = None  # the lift floor granted
    _use: Use | None = field(default=None, repr=False, compare=False)
    _nonce: tuple[bytes, float] | None = field(default=None, repr=False, compare=False)

    def event(self, direction: str) -> tuple[str, dict[str, Any]]:
        """The access.granted / access.denied event kind and data (docs/bridge.md)."""
        if not self.granted:
            data: dict[str, Any] = {
                "method": self.method,
                "direction": direction,
                "reason": self.reason,
            }
            if self.credential:
                data["credential"] = self.credential
            return "access.denied", data
        data = {
            "method": self.method,
            "direction": direction,
            "credential": self.credential or None,
            "person": self.person or None,
            "visitor_pass": self.visitor_pass or None,
            "decided_by": self.decided_by,
        }
        if self.counter is not None:
            data["counter"] = self.counter
        if self.floor is not None:
            data["floor"] = self.floor
        return "access.granted", data


def uses_entry(entry: p.CredentialEntry, door: str, direction: str) -> bool:
    """Whether a grant here is an entry: an "in" at one of its entry doors (none listed: any)."""
    return direction == "in" and (not entry.entry_doors or door in entry.entry_doors)


def _refuse(signature: bytes, message: bytes) -> bool:
    """The verifier of a key that does not parse: nothing passes."""
    return False


def digest(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA256(key, f"{kind}:{value}"): how cards, PINs and keypad codes are cached."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()


class AccessControl:
    """Decides presentations at the site's readers; one per bridge."""

    def __init__(
        self,
        cache: CredentialCache,
        *,
        record: Record,
        execute: Execute,
        kinds: Callable[[str], str | None],
        query: Query | None = None,
        clock: Callable[[], float] = time.time,
        query_timeout: float = QUERY_TIMEOUT,
    ) -> None:
        self.cache = cache
        self.query_timeout = query_timeout
        self._record = record
        self._execute = execute
        self._kinds = kinds
        self._query = query
        self._clock = clock
        self._failures: dict[str, tuple[int, str]] = {}  # reader → (denials in a row, last method)
        self._verifiers: dict[str, tuple[bytes, p.PhoneKeyVerify]] = {}  # phone key id → verifier

    # -- a presentation ---------------------------------------------------------------------------

    async def present(
        self,
        door: str,
        method: str,
        value: str,
        direction: str = "in",
        floor: int | None = None,
    ) -> Decision:
        """Decide, record the event, and on a grant open the door (or call the lift to `floor`)."""
        kind = self._kinds(door)
        if kind is None:
            raise ValueError(f"unknown reader device {door!r}")
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        if direction not in ("in", "out"):
            raise ValueError(f"direction must be in or out, not {direction!r}")
        decision = await self.decide(door, method, value, direction, floor)
        event, data = decision.event(direction)
        try:
            seq = await self._record(event, door, data)
            if decision._use is not None:
                await self.cache.record(decision._use, seq)
            if decision._nonce is not None:
                await self.cache.store_nonce(SITE, *decision._nonce)
        except Exception:  # a full disk must not keep a granted person out
            log.exception("bridge.access.not_recorded", door=door, granted=decision.granted)
        if decision.granted:
            self._failures.pop(door, None)
            await self._open(door, kind, decision)
        else:
            await self._indicate(door, decision)
            await self._denied(door, decision.method)
        log.info(
            "bridge.access.decided",
            door=door,
            method=decision.method,
            granted=decision.granted,
            reason=decision.reason or None,
            credential=decision.credential or None,
            decided_by=decision.decided_by,
        )
        return decision

    async def _open(self, door: str, kind: str, decision: Decision) -> None:
        if kind == "lift":
            if decision.floor is None:
                return  # several floors may be chosen: the car's buttons are enabled
            result = await self._execute(door, "call", {"floor": decision.floor})
        else:
            # No person or method in the args: the sim would record a second access.granted.
            result = await self._execute(door, "open", {})
        if result.status != "ok":
            log.warning(
                "bridge.access.open_failed", door=door, status=result.status, detail=result.detail
            )

    async def _indicate(self, door: str, decision: Decision) -> None:
        """The refusal shown at the reader (red light, three beeps, and why), so the person at
        the door knows at once, not only the platform (standard 6.5.16)."""
        args = {"result": "denied", "reason": decision.reason, **DENIED_SIGNAL}
        result = await self._execute(door, "indicate", args)
        if result.status != "ok":
            log.info("bridge.access.not_indicated", door=door, status=result.status)

    async def _denied(self, door: str, method: str) -> None:
        count = self._failures.get(door, (0, method))[0] + 1
        if count < FAILED_READS:
            self._failures[door] = (count, method)
            return
        self._failures.pop(door, None)
        await self._record("access.failed_reads", door, {"count": count, "method": method})

    # -- the decision -----------------------------------------------------------------------------

    async def decide(
        self,
        door: str,
        method: str,
        value: str,
        direction: str = "in",
        floor: int | None = None,
    ) -> Decision:
        """The decision alone (a grant counts the pass in memory); no event, no door."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        now = self._clock()
        if method == "qr":
            return await self._qr(door, value, direction, floor, now)
        if method == "face":  # the template id the device matched (or the credential's id)
            held = self.cache.by_id(value)
            if held is not None and held.entry.kind == "face":
                return self._check(held, "face", door, floor, direction, now)
            revoked = self.cache.revoked(credential=value)
            if revoked:
                return Decision(False, "face", "revoked", credential=revoked)
        kinds: tuple[Method, ...] = KEYPAD if method in KEYPAD else (cast(Method, method),)
        key = self.cache.state.key
        for kind in kinds:
            d = digest(key, kind, value)
            found = self.cache.by_digest(d)
            if found is not None and found[0].entry.kind == kind:
                held, counter = found
                return self._check(held, kind, door, floor, direction, now, counter=counter)
            revoked = self.cache.revoked(digest=d)
            if revoked:
                return Decision(False, kind, "revoked", credential=revoked)
        return await self._ask(door, cast(Method, method), value, direction, floor)

    async def _qr(
        self, door: str, text: str, direction: str, floor: int | None, now: float
    ) -> Decision:
        if text.startswith(p.PHONE_KEY_PREFIX):
            return await self._phone_qr(door, text, direction, floor, now)
        try:
            claims, signed, signature = p.parse_qr(text)
        except ValueError:
            reason = "qr_forged" if text.startswith(p.QR_PREFIX) else "unknown"
            return Decision(False, "qr", reason)
        key = self.cache.state.qr_keys.get(claims.kid)
        if key is None:  # the claims are unverified: name no credential
            return Decision(False, "qr", "qr_unknown_key")
        try:
            key.verify(signature, signed)
        except InvalidSignature:
            return Decision(False, "qr", "qr_forged")
        if (
            claims.exp - claims.iat > p.QR_MAX_VALIDITY
            or now < claims.iat - QR_EARLY
            or now > claims.exp
        ):
            return Decision(False, "qr", "qr_expired", credential=claims.cred)
        if self.cache.nonce_used(SITE, claims.nonce, now):
            return Decision(False, "qr", "qr_reused", credential=claims.cred)
        held = self.cache.by_id(claims.cred)
        if held is None or held.entry.kind not in QR_KINDS:
            revoked = self.cache.revoked(credential=claims.cred)
            if revoked:
                return Decision(False, "qr", "revoked", credential=revoked)
            decision = await self._ask(door, "qr", text, direction, floor)
            if decision.granted and self.cache.nonce_used(SITE, claims.nonce, self._clock()):
                # The same code passed at the site while the platform was deciding.
                return Decision(False, "qr", "qr_reused", credential=claims.cred)
        else:
            decision = self._check(held, "qr", door, floor, direction, now)
        if decision.granted:
            self.cache.use_nonce(SITE, claims.nonce, claims.exp)
            decision._nonce = (claims.nonce, claims.exp)
        return decision

    async def _phone_qr(
        self, door: str, text: str, direction: str, floor: int | None, now: float
    ) -> Decision:
        """A code a phone made with its own key (docs/bridge.md, phone keys)."""
        try:
            code = p.parse_phone_qr(text)
        except ValueError:
            return Decision(False, "qr", "qr_forged")
        if not p.phone_key_fresh(code.window, now):  # unverified yet: name no credential
            return Decision(False, "qr", "qr_expired")
        nonce = p.phone_key_nonce(code)
        held = self.cache.by_id(code.cred)
        if held is None or held.entry.kind != "phone_key":
            revoked = self.cache.revoked(credential=code.cred)
            if revoked:
                return Decision(False, "qr", "revoked", credential=revoked)
            decision = await self._ask(door, "qr", text, direction, floor)
            if decision.granted and self.cache.nonce_used(SITE, nonce, self._clock()):
                return Decision(False, "qr", "qr_reused", credential=code.cred)
        else:
            if not self._verifier(held.entry)(code.signature, nonce):
                return Decision(False, "qr", "qr_forged")
            if self.cache.nonce_used(SITE, nonce, now):
                return Decision(False, "qr", "qr_reused", credential=code.cred)
            decision = self._check(held, "qr", door, floor, direction, now)
        if decision.granted:
            expiry = p.phone_key_expiry(code.window)
            self.cache.use_nonce(SITE, nonce, expiry)
            decision._nonce = (nonce, expiry)
        return decision

    def _verifier(self, entry: p.CredentialEntry) -> p.PhoneKeyVerify:
        """The entry's key, parsed once per key (a changed key is parsed again)."""
        known = self._verifiers.get(entry.id)
        if known is None or known[0] != entry.public_key:
            try:
                verify = p.phone_key_verifier(entry.public_key)
            except ValueError:
                log.error("bridge.access.bad_phone_key", credential=entry.id)
                verify = _refuse
            known = self._verifiers[entry.id] = (entry.public_key, verify)
        return known[1]

    def _check(
        self,
        held: Held,
        method: Method,
        door: str,
        floor: int | None,
        direction: str,
        now: float,
        *,
        counter: int | None = None,
    ) -> Decision:
        entry = held.entry
        enters = uses_entry(entry, door, direction)
        denied = self._refusal(held, door, floor, now, counter, enters)
        if denied:
            return Decision(False, method, denied, credential=entry.id)
        if floor is None and self._kinds(door) == "lift" and len(entry.floors) == 1:
            floor = entry.floors[0]  # a visitor's lift goes to the host's floor by itself
        use = None
        code = counter if method == "code" else None
        counted = enters and held.uses >= 0  # an entry of a credential with limited uses
        if counted or code is not None:
            use = self.cache.count(held, code, entry=counted)
        return Decision(
            True,
            method,
            credential=entry.id,
            person=entry.person,
            visitor_pass=entry.visitor_pass,
            counter=counter if method == "code" else None,
            floor=floor,
            _use=use,
        )

    def _refusal(
        self,
        held: Held,
        door: str,
        floor: int | None,
        now: float,
        counter: int | None,
        enters: bool,
    ) -> str:
        entry = held.entry
        if entry.kind == "code" and counter is not None and counter < held.next_counter:
            return "code_used"
        if door not in entry.doors or (floor is not None and floor not in entry.floors):
            return "not_this_door"
        if entry.valid_from and now < entry.valid_from:
            return "not_yet_valid"
        if entry.valid_until and now >= entry.valid_until:
            return "expired"
        if entry.schedule and not self._in_schedule(entry, now):
            return "out_of_schedule"
        if held.uses == 0 and enters:
            return "no_uses_left"
        return ""

    def _in_schedule(self, entry: p.CredentialEntry, now: float) -> bool:
        local = datetime.fromtimestamp(now, self.cache.state.timezone)
        if local.date().isoformat() in entry.holidays:
            return False
        minute = local.hour * 60 + local.minute
        today = 1 << local.weekday()
        yesterday = 1 << (local - timedelta(days=1)).weekday()
        for window in entry.schedule:
            if window.start <= window.end:
                if window.days & today and window.start <= minute < window.end:
                    return True
            elif (window.days & today and minute >= window.start) or (
                window.days & yesterday and minute < window.end
            ):
                return True  # a window across midnight belongs to the day it starts
        return False

    async def _ask(
        self, door: str, method: Method, value: str, direction: str, floor: int | None
    ) -> Decision:
        if self._query is None:
            return Decision(False, method, "unknown")
        frame = p.AccessQuery(
            id=uuid.uuid4().hex,
            door=door,
            method=method,
            value=value,
            direction="out" if direction == "out" else "in",
            floor=floor,
        )
        answer = await self._query(frame, self.query_timeout)
        if answer is None:
            return Decision(False, method, "unknown")
        if not answer.granted:
            reason = answer.reason if answer.reason in REASONS else "platform_denied"
            return Decision(
                False, method, reason, credential=answer.credential, decided_by="platform"
            )
        return Decision(
            True,
            method,
            credential=answer.credential,
            person=answer.person,
            visitor_pass=answer.visitor_pass,
            decided_by="platform",
            floor=answer.floor if answer.floor is not None else floor,
        )
