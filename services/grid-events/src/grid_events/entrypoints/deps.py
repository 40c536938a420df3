"""Dependencies shared by grid-events' routers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends

from city_common.auth import Principal, Role, require_roles
from city_common.observability.tracing import current_trace
from city_common.runtime import RuntimeDep
from grid_events.adapters.crypto import PiiCipher
from grid_events.config import Settings
from grid_events.domain.model import CHINA_STANDARD_TIME, Accessor


def local_today() -> date:
    # The district's date: a child born today in Yongchuan is not "born in the
    # future" between midnight and 08:00 UTC.
    return datetime.now(CHINA_STANDARD_TIME).date()


async def _today() -> date:
    # Dependencies are coroutines: FastAPI runs a plain function in its thread pool,
    # a hop that costs more than this whole request's own work on a busy service.
    return local_today()


async def grid_settings(runtime: RuntimeDep) -> Settings:
    settings = runtime.settings
    assert isinstance(settings, Settings)  # noqa: S101 - bootstrap builds the app with them
    return settings


async def pii_cipher(runtime: RuntimeDep) -> PiiCipher:
    cipher: PiiCipher = runtime.state["pii"]
    return cipher


CipherDep = Annotated[PiiCipher, Depends(pii_cipher)]
SettingsDep = Annotated[Settings, Depends(grid_settings)]
TodayDep = Annotated[date, Depends(_today)]

Reader = Annotated[
    Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.GRID_WORKER))
]
# Base data is collected in the field by grid workers, and in the office by operators.
Collector = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.GRID_WORKER))]
Importer = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


def accessor(principal: Principal) -> Accessor:
    # The middleware has set the request's trace; the audit row carries its id.
    return Accessor.of(principal.subject, principal.roles, current_trace().trace_id)
