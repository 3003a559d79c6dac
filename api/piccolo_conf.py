"""Piccolo's configuration: the engine and the one app that owns every table.

The engine's DSN is filled in at start-up (`api.core.db.configure`), because with the embedded
default the database URL is only known once pgserver has started.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={})

APP_REGISTRY = AppRegistry(apps=["api.piccolo_app"])
