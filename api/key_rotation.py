"""Key rotation: a new current data key, then every encrypted field re-encrypted under it; the
same for the biometric keyring and the face photos sealed under it (a keyring of its own).

It spans the domains that hold encrypted fields, so it sits beside the lifespan, not in core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from api.accounts.tables import Account
from api.audit.service import record
from api.biometrics.service import keyring, reseal_all
from api.core.crypto import Keyring
from api.lifespan import make_cipher
from api.people.tables import Person
from api.piccolo_conf import DB
from api.settings import Settings
from api.vehicles.identifiers import CONTEXT, TICKET_PHONE
from api.vehicles.tables import ParkingTicket, PassRecord, Vehicle

# table -> (column name, cipher context) of every encrypted field
ENCRYPTED: list[tuple[type[Table], list[tuple[str, str]]]] = [
    (Person, [("phone", "persons.phone"), ("id_number", "persons.id_number")]),
    (Account, [("totp_secret", "accounts.totp_secret")]),
    (Vehicle, [("plate", CONTEXT)]),
    (PassRecord, [("plate", CONTEXT)]),
    (ParkingTicket, [("phone", TICKET_PHONE)]),
]
BATCH = 500


async def rotate_keys(settings: Settings, *, progress: Callable[[str], Any]) -> str:
    """Rotate the keyring, re-encrypt in batches (one transaction each); return the new key id."""
    new_id = Keyring.load_or_create(settings.keyring_path).rotate(settings.keyring_path)
    cipher = make_cipher(settings)
    progress(f"new data key {new_id} is current")
    for table, fields in ENCRYPTED:
        pk = table._meta.primary_key
        total = await table.count()
        done = 0
        last = None
        while True:
            query = table.select(pk, *[table._meta.get_column_by_name(f) for f, _ in fields])
            if last is not None:
                query = query.where(pk > last)
            rows = await query.order_by(pk).limit(BATCH)
            if not rows:
                break
            async with DB.transaction():
                for row in rows:
                    changes: dict[Column | str, Any] = {
                        table._meta.get_column_by_name(name): cipher.reencrypt(
                            row[name], context=ctx
                        )
                        for name, ctx in fields
                        if row[name] and cipher.needs_rotation(row[name])
                    }
                    if changes:
                        await table.update(changes).where(pk == row[pk._meta.name])
            done += len(rows)
            last = rows[-1][pk._meta.name]
            progress(f"{table._meta.tablename}: {done}/{total}")
    ring_path = settings.biometric_keyring_path
    biometric_id = Keyring.load_or_create(ring_path).rotate(ring_path)
    progress(f"new biometric key {biometric_id} is current")
    faces = await reseal_all(keyring(ring_path), batch=BATCH, progress=progress)
    await record(
        "keys.rotated",
        actor_name="anju keys rotate",
        details={"key_id": new_id, "biometric_key_id": biometric_id, "faces": faces},
    )
    return new_id
