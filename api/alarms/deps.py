"""Dependencies of the alarm controllers: where a request's effects go after commit."""

from __future__ import annotations

from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.di import Provide

from api.alarms.effects import AppOutlet


def provide_outlet(state: State, channels: ChannelsPlugin) -> AppOutlet:
    """Where a request's effects go after commit: live channels and the job queue."""
    return AppOutlet(channels, state.redis, state.queue)


# The object store is reached as `state.objects`: Litestar checks a dependency's value against its
# annotation at run time, which the ObjectStore protocol does not allow.
DEPENDENCIES = {"outlet": Provide(provide_outlet, sync_to_thread=False)}
