"""REST API of the case workflow: departments, grid workers, dispatch rules, case steps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from city_common.auth import Principal, Role, require_roles
from city_common.runtime import UowDep
from city_common.web.pagination import Page, PageDep
from city_common.web.problems import Problem, validation_failed
from grid_events.adapters import workflow_repo as wrepo
from grid_events.domain.identity import normalise_phone
from grid_events.domain.workflow import Verb
from grid_events.entrypoints.deps import Admin, CipherDep, Reader, SettingsDep
from grid_events.service_layer import staff, workflow

router = APIRouter(prefix="", tags=["workflow"])

Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Kind = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z_]*$")]
RuleCategory = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^(\*|[a-z][a-z_]*)$")]
Priority = Annotated[int, Field(ge=1, le=4, strict=True)]
WorkerRole = Literal["grid_worker", "grid_leader", "supervisor"]
DutyStatus = Literal["on_duty", "off_duty", "on_leave"]
# Who may step a case at all; the lifecycle then checks the verb (see domain.workflow).
Stepper = Annotated[
    Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER, Role.GRID_WORKER))
]
Dispatcher = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.DISPATCHER))]


# --- departments ---------------------------------------------------------------------


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug
    name: str = Field(min_length=1, max_length=128)
    kind: Kind = Field(description="police, fire, forestry, environment, transport, ...")
    area_id: Slug | None = Field(
        default=None, description="The district, town or village it serves; none: district-wide"
    )


class DepartmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)


class DepartmentRead(BaseModel):
    id: str
    name: str
    kind: str
    area_id: str | None
    created_at: datetime
    updated_at: datetime


@router.get("/departments", response_model=Page[DepartmentRead])
async def list_departments(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    kind: Kind | None = None,
    area_id: Slug | None = None,
) -> Page[DepartmentRead]:
    items, total = await wrepo.list_departments(
        uow.session, kind=kind, area_id=area_id, limit=page.limit, offset=page.offset
    )
    return Page.of(DepartmentRead, items, total=total, page=page)


@router.post("/departments", status_code=status.HTTP_201_CREATED, response_model=DepartmentRead)
async def create_department(body: DepartmentCreate, uow: UowDep, _: Admin) -> DepartmentRead:
    """A department at one level of the hierarchy (one of each kind per area)."""
    created = await staff.create_department(
        uow, department_id=body.id, name=body.name, kind=body.kind, area_id=body.area_id
    )
    return DepartmentRead.model_validate(created)


@router.get("/departments/{department_id}", response_model=DepartmentRead)
async def get_department(department_id: str, uow: UowDep, _: Reader) -> DepartmentRead:
    return DepartmentRead.model_validate(await staff.get_department(uow, department_id))


@router.patch("/departments/{department_id}", response_model=DepartmentRead)
async def update_department(
    department_id: str, body: DepartmentUpdate, uow: UowDep, _: Admin
) -> DepartmentRead:
    return DepartmentRead.model_validate(
        await staff.rename_department(uow, department_id, name=body.name)
    )


@router.delete("/departments/{department_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_department(department_id: str, uow: UowDep, _: Admin) -> Response:
    """Refused (409) while dispatch rules or grid workers refer to it."""
    await staff.delete_department(uow, department_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- grid workers --------------------------------------------------------------------


def _phone(value: str | None) -> str | None:
    return None if value is None else normalise_phone(value)


class WorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug = Field(description="The subject of the worker's login")
    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    role: WorkerRole = "grid_worker"
    duty_status: DutyStatus = "off_duty"
    department_id: Slug | None = None
    area_ids: list[Slug] = Field(default_factory=list, max_length=200)

    _check_phone = field_validator("phone")(_phone)


class WorkerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    role: WorkerRole | None = None
    duty_status: DutyStatus | None = None
    department_id: Slug | None = None
    area_ids: list[Slug] | None = Field(default=None, max_length=200)

    _check_phone = field_validator("phone")(_phone)


class DutyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duty_status: DutyStatus


class WorkerRead(BaseModel):
    id: str
    name_masked: str
    phone_masked: str | None
    role: str
    duty_status: str
    department_id: str | None
    area_ids: list[str]
    created_at: datetime
    updated_at: datetime


@router.get("/grid-workers", response_model=Page[WorkerRead])
async def list_workers(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    role: WorkerRole | None = None,
    duty_status: DutyStatus | None = None,
    area_id: Annotated[Slug | None, Query(description="Workers covering this area")] = None,
    department_id: Slug | None = None,
) -> Page[WorkerRead]:
    items, total = await wrepo.list_workers(
        uow.session,
        role=role,
        duty_status=duty_status,
        area_id=area_id,
        department_id=department_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(WorkerRead, items, total=total, page=page)


@router.post("/grid-workers", status_code=status.HTTP_201_CREATED, response_model=WorkerRead)
async def create_worker(body: WorkerCreate, uow: UowDep, cipher: CipherDep, _: Admin) -> WorkerRead:
    """A grid worker and the cells they cover; the name and phone are sealed and masked."""
    created = await staff.create_worker(
        uow,
        cipher,
        worker_id=body.id,
        name=body.name,
        phone=body.phone,
        role=body.role,
        duty_status=body.duty_status,
        department_id=body.department_id,
        area_ids=body.area_ids,
    )
    return WorkerRead.model_validate(created)


@router.get("/grid-workers/{worker_id}", response_model=WorkerRead)
async def get_worker(worker_id: str, uow: UowDep, _: Reader) -> WorkerRead:
    return WorkerRead.model_validate(await staff.get_worker(uow, worker_id))


@router.patch("/grid-workers/{worker_id}", response_model=WorkerRead)
async def update_worker(
    worker_id: str, body: WorkerUpdate, uow: UowDep, cipher: CipherDep, _: Admin
) -> WorkerRead:
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "role", "duty_status", "area_ids"):
        if required in changes and changes[required] is None:
            raise validation_failed(f"body.{required}", "may be changed but not removed")
    return WorkerRead.model_validate(await staff.update_worker(uow, cipher, worker_id, changes))


@router.put("/grid-workers/{worker_id}/duty", response_model=WorkerRead)
async def change_duty(
    worker_id: str, body: DutyChange, uow: UowDep, cipher: CipherDep, principal: Reader
) -> WorkerRead:
    """Go on or off duty, or on leave: the worker themself, or the command centre."""
    if not principal.has_any(Role.OPERATOR, Role.DISPATCHER) and principal.subject != worker_id:
        raise Problem(403, "Forbidden", "a grid worker changes only their own duty status")
    changed = await staff.update_worker(uow, cipher, worker_id, {"duty_status": body.duty_status})
    return WorkerRead.model_validate(changed)


@router.delete("/grid-workers/{worker_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_worker(worker_id: str, uow: UowDep, _: Admin) -> Response:
    await staff.delete_worker(uow, worker_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- dispatch rules ------------------------------------------------------------------


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: RuleCategory = Field(description="A case category, or * for any")
    area_id: Slug | None = Field(default=None, description="This area's subtree; none: anywhere")
    priority: Priority
    department_id: Slug
    assign_cell_worker: bool = Field(
        default=False, description="Also assign the on-duty grid worker of the case's cell"
    )


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = None
    department_id: Slug | None = None
    assign_cell_worker: bool | None = None


class RuleRead(BaseModel):
    id: str
    category: str
    area_id: str | None
    priority: int
    department_id: str
    assign_cell_worker: bool
    created_at: datetime
    updated_at: datetime


class RouteRead(BaseModel):
    department: str
    priority: int
    assign_cell_worker: bool
    rule_id: str | None = Field(description="The rule that decided; none: the default table")


@router.get("/dispatch-rules", response_model=Page[RuleRead])
async def list_rules(
    uow: UowDep,
    page: PageDep,
    _: Reader,
    category: RuleCategory | None = None,
    area_id: Slug | None = None,
    department_id: Slug | None = None,
) -> Page[RuleRead]:
    items, total = await wrepo.list_rules(
        uow.session,
        category=category,
        area_id=area_id,
        department_id=department_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(RuleRead, items, total=total, page=page)


@router.post("/dispatch-rules", status_code=status.HTTP_201_CREATED, response_model=RuleRead)
async def create_rule(body: RuleCreate, uow: UowDep, _: Admin) -> RuleRead:
    """A rule (one per category and area); the most specific matching rule decides."""
    created = await staff.create_rule(
        uow,
        category=body.category,
        area_id=body.area_id,
        priority=body.priority,
        department_id=body.department_id,
        assign_cell_worker=body.assign_cell_worker,
    )
    return RuleRead.model_validate(created)


@router.get("/dispatch-rules/{rule_id}", response_model=RuleRead)
async def get_rule(rule_id: str, uow: UowDep, _: Reader) -> RuleRead:
    return RuleRead.model_validate(await staff.get_rule(uow, rule_id))


@router.patch("/dispatch-rules/{rule_id}", response_model=RuleRead)
async def update_rule(rule_id: str, body: RuleUpdate, uow: UowDep, _: Admin) -> RuleRead:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return RuleRead.model_validate(await staff.update_rule(uow, rule_id, changes))


@router.delete("/dispatch-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(rule_id: str, uow: UowDep, _: Admin) -> Response:
    await staff.delete_rule(uow, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/cases/{case_id}/route", response_model=RouteRead)
async def case_route(case_id: str, uow: UowDep, _: Dispatcher) -> RouteRead:
    """Where the dispatch rules send this case."""
    return RouteRead.model_validate(await staff.case_route(uow, case_id))


# --- the lifecycle -------------------------------------------------------------------


class TransitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Verb = Field(
        description="dispatch, accept, start, resolve, verify, reopen, close, reject, "
        "mark_duplicate"
    )
    note: str | None = Field(default=None, max_length=1000)
    # dispatch only: override what the rules decide.
    department: Slug | None = None
    assignee_worker_id: Slug | None = None
    priority: Priority | None = None


class TimelineEntry(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: datetime
    note: str | None
    department: str | None
    assignee_worker_id: str | None
    due_at: datetime | None


class StepRead(BaseModel):
    id: str
    status: str
    department: str | None
    assignee_worker_id: str | None
    priority: int
    due_at: datetime | None
    escalation_level: int


@router.post(
    "/cases/{case_id}/transitions", status_code=status.HTTP_201_CREATED, response_model=StepRead
)
async def take_step(
    case_id: str,
    body: TransitionCreate,
    uow: UowDep,
    settings: SettingsDep,
    principal: Stepper,
) -> StepRead:
    """Move a case one step along its lifecycle; 409 names the current status when the
    step does not follow from it."""
    if body.action is not Verb.DISPATCH:
        for field in ("department", "assignee_worker_id", "priority"):
            if getattr(body, field) is not None:
                raise validation_failed(f"body.{field}", "only a dispatch sets the holder")
    step = workflow.StepRequest(
        body.action,
        principal.subject,
        datetime.now(UTC),
        note=body.note,
        department=body.department,
        assignee_worker_id=body.assignee_worker_id,
        priority=body.priority,
    )
    updated = await workflow.take_step(
        uow,
        settings.workflow_policy,
        case_id=case_id,
        step=step,
        roles=principal.roles,
    )
    return StepRead.model_validate(updated)


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineEntry])
async def timeline(case_id: str, uow: UowDep, _: Reader) -> list[TimelineEntry]:
    """Every step of the case, oldest first: who, when, from which status to which."""
    return [TimelineEntry.model_validate(t) for t in await workflow.case_timeline(uow, case_id)]
