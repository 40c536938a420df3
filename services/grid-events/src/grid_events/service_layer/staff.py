"""Use cases for departments, grid workers and dispatch rules (who gets the cases)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from city_common.db.uow import UnitOfWork
from city_common.web.problems import conflict, not_found, validation_failed
from grid_events.adapters import repository as repo
from grid_events.adapters import workflow_repo as wrepo
from grid_events.adapters.crypto import PiiCipher
from grid_events.domain.identity import mask_name, mask_phone, normalise_name, normalise_phone
from grid_events.service_layer.workflow import route

# A department sits at the district (no area) or a town, village or community; a
# grid cell is a worker's beat, not an office.
DEPARTMENT_LEVELS = frozenset({"district", "town", "village"})


async def _check_area(
    uow: UnitOfWork, field: str, area_id: str | None, levels: frozenset[str] | None = None
) -> None:
    if area_id is None:
        return
    level = await wrepo.area_level(uow.session, area_id)
    if level is None:
        raise validation_failed(field, f"area {area_id!r} does not exist", code="unknown_reference")
    if levels is not None and level not in levels:
        raise validation_failed(
            field, f"area {area_id!r} is a {level}; expected one of {sorted(levels)}"
        )


async def _check_department(uow: UnitOfWork, field: str, department_id: str | None) -> None:
    if department_id is not None and await wrepo.get_department(uow.session, department_id) is None:
        raise validation_failed(
            field, f"department {department_id!r} does not exist", code="unknown_reference"
        )


async def _commit_new(uow: UnitOfWork, detail: str) -> None:
    """Commit an insert; a concurrent twin that won the race is a conflict, not a 500."""
    try:
        await uow.commit()
    except IntegrityError as exc:
        await uow.rollback()
        raise conflict(detail) from exc


# --- departments ---------------------------------------------------------------------


async def get_department(uow: UnitOfWork, department_id: str) -> dict[str, Any]:
    found = await wrepo.get_department(uow.session, department_id)
    if found is None:
        raise not_found("department", department_id)
    return found


async def create_department(
    uow: UnitOfWork, *, department_id: str, name: str, kind: str, area_id: str | None
) -> dict[str, Any]:
    if await wrepo.get_department(uow.session, department_id) is not None:
        raise conflict(f"department {department_id!r} already exists")
    await _check_area(uow, "body.area_id", area_id, DEPARTMENT_LEVELS)
    if await wrepo.department_at(uow.session, kind, area_id) is not None:
        raise conflict(f"area {area_id or 'district-wide'!r} already has a {kind!r} department")
    await wrepo.add_department(uow.session, id=department_id, name=name, kind=kind, area_id=area_id)
    await _commit_new(uow, f"department {department_id!r} or its kind in that area exists")
    return await get_department(uow, department_id)


async def rename_department(uow: UnitOfWork, department_id: str, *, name: str) -> dict[str, Any]:
    await get_department(uow, department_id)
    await wrepo.update_department(uow.session, department_id, name=name)
    await uow.commit()
    return await get_department(uow, department_id)


async def delete_department(uow: UnitOfWork, department_id: str) -> None:
    await get_department(uow, department_id)
    in_use = await wrepo.department_in_use(uow.session, department_id)
    if in_use is not None:
        raise conflict(f"department {department_id!r} cannot be deleted: {in_use}")
    await wrepo.delete_department(uow.session, department_id)
    await uow.commit()


# --- grid workers --------------------------------------------------------------------


def _context(worker_id: str, what: str) -> bytes:
    # Binds each sealed value to its worker and field: one cannot be swapped for another.
    return f"grid_worker:{worker_id}:{what}".encode()


async def get_worker(uow: UnitOfWork, worker_id: str) -> dict[str, Any]:
    found = await wrepo.get_worker(uow.session, worker_id)
    if found is None:
        raise not_found("grid worker", worker_id)
    return found


def _sealed_name(cipher: PiiCipher, worker_id: str, name: str) -> dict[str, Any]:
    clean = normalise_name(name)
    return {
        "name_ciphertext": cipher.encrypt(clean, context=_context(worker_id, "name")),
        "name_masked": mask_name(clean),
    }


def _sealed_phone(cipher: PiiCipher, worker_id: str, phone: str | None) -> dict[str, Any]:
    if phone is None:
        return {"phone_ciphertext": None, "phone_masked": None}
    number = normalise_phone(phone)  # validated by the API schema already
    return {
        "phone_ciphertext": cipher.encrypt(number, context=_context(worker_id, "phone")),
        "phone_masked": mask_phone(number),
    }


async def _check_areas(uow: UnitOfWork, area_ids: Sequence[str]) -> None:
    for index, area_id in enumerate(area_ids):
        await _check_area(uow, f"body.area_ids.{index}", area_id)


async def create_worker(
    uow: UnitOfWork,
    cipher: PiiCipher,
    *,
    worker_id: str,
    name: str,
    phone: str | None,
    role: str,
    duty_status: str,
    department_id: str | None,
    area_ids: Sequence[str],
) -> dict[str, Any]:
    if await wrepo.get_worker(uow.session, worker_id) is not None:
        raise conflict(f"grid worker {worker_id!r} already exists")
    await _check_department(uow, "body.department_id", department_id)
    await _check_areas(uow, area_ids)
    await wrepo.add_worker(
        uow.session,
        area_ids=area_ids,
        id=worker_id,
        role=role,
        duty_status=duty_status,
        department_id=department_id,
        **_sealed_name(cipher, worker_id, name),
        **_sealed_phone(cipher, worker_id, phone),
    )
    await _commit_new(uow, f"grid worker {worker_id!r} already exists")
    return await get_worker(uow, worker_id)


async def update_worker(
    uow: UnitOfWork, cipher: PiiCipher, worker_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply the fields given (a PATCH); names and phones are sealed again."""
    await get_worker(uow, worker_id)
    values: dict[str, Any] = {}
    if "name" in changes:
        values.update(_sealed_name(cipher, worker_id, changes["name"]))
    if "phone" in changes:
        values.update(_sealed_phone(cipher, worker_id, changes["phone"]))
    for field in ("role", "duty_status"):
        if field in changes:
            values[field] = changes[field]
    if "department_id" in changes:
        await _check_department(uow, "body.department_id", changes["department_id"])
        values["department_id"] = changes["department_id"]
    if "area_ids" in changes:
        await _check_areas(uow, changes["area_ids"])
        await wrepo.set_worker_areas(uow.session, worker_id, changes["area_ids"])
    await wrepo.update_worker(uow.session, worker_id, **values)
    await uow.commit()
    return await get_worker(uow, worker_id)


async def delete_worker(uow: UnitOfWork, worker_id: str) -> None:
    await get_worker(uow, worker_id)
    if await wrepo.cases_held(uow.session, worker=worker_id):
        raise conflict(f"grid worker {worker_id!r} still holds unfinished cases")
    await wrepo.delete_worker(uow.session, worker_id)
    await uow.commit()


# --- dispatch rules ------------------------------------------------------------------


async def get_rule(uow: UnitOfWork, rule_id: str) -> dict[str, Any]:
    found = await wrepo.get_rule(uow.session, rule_id)
    if found is None:
        raise not_found("dispatch rule", rule_id)
    return found


async def create_rule(
    uow: UnitOfWork,
    *,
    category: str,
    area_id: str | None,
    priority: int,
    department_id: str,
    assign_cell_worker: bool,
) -> dict[str, Any]:
    await _check_area(uow, "body.area_id", area_id)
    await _check_department(uow, "body.department_id", department_id)
    existing = await wrepo.rule_for(uow.session, category, area_id)
    if existing is not None:
        raise conflict(
            f"dispatch rule {existing!r} already covers category {category!r} "
            f"in area {area_id or 'anywhere'!r}"
        )
    rule_id = f"rule-{uuid.uuid4().hex[:12]}"
    await wrepo.add_rule(
        uow.session,
        id=rule_id,
        category=category,
        area_id=area_id,
        priority=priority,
        department_id=department_id,
        assign_cell_worker=assign_cell_worker,
    )
    await _commit_new(uow, f"a dispatch rule covers category {category!r} there already")
    return await get_rule(uow, rule_id)


async def update_rule(uow: UnitOfWork, rule_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change what a rule decides (its category and area are what it is: make a new one)."""
    await get_rule(uow, rule_id)
    if "department_id" in changes:
        await _check_department(uow, "body.department_id", changes["department_id"])
    await wrepo.update_rule(uow.session, rule_id, **changes)
    await uow.commit()
    return await get_rule(uow, rule_id)


async def delete_rule(uow: UnitOfWork, rule_id: str) -> None:
    await get_rule(uow, rule_id)
    await wrepo.delete_rule(uow.session, rule_id)
    await uow.commit()


async def case_route(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    """Where the rules would send a case now (before a dispatcher dispatches it)."""
    case = await repo.get_case(uow.session, case_id)
    if case is None:
        raise not_found("case", case_id)
    decided = await route(uow, category=case["category"], cell_id=case["cell_id"])
    return {
        "department": decided.department,
        "priority": decided.priority,
        "assign_cell_worker": decided.assign_cell_worker,
        "rule_id": decided.rule_id,
    }
