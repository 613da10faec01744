"""`/maps/{engagement}`: the stored integration map (latest or a version) and the drift
between two versions. Maps are built by `fde map show`; the API serves what is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Db, NamePath, Viewer
from core import engagements
from core.errors import NotFoundError
from tools.map import drift
from tools.map.drift import DriftItem
from tools.map.model import IntegrationMap
from tools.map.store import latest, load_version, versions

router = APIRouter(tags=["maps"])
_404 = {404: {"description": "unknown engagement, or no map stored yet"}}


class MapDrift(BaseModel):
    engagement: str
    from_version: int | None
    to_version: int
    drift: list[DriftItem]


def _none_yet(engagement: str) -> NotFoundError:
    return NotFoundError(f"no integration map stored for {engagement!r} yet",
                         hint=f"build one with `fde map show --engagement {engagement}`")


@router.get("/maps/{engagement}", response_model=IntegrationMap, responses=_404)
def get_map(engagement: NamePath, db: Db, _: Viewer,
            version: Annotated[int | None, Query(ge=1)] = None) -> IntegrationMap:
    with db.session() as session:
        engagements.get(session, engagement)
        if version is not None:
            return load_version(session, engagement, version)
        found = latest(session, engagement)
    if found is None:
        raise _none_yet(engagement)
    return found


@router.get("/maps/{engagement}/drift", response_model=MapDrift, responses=_404)
def get_drift(engagement: NamePath, db: Db, _: Viewer,
              from_version: Annotated[int | None, Query(ge=1)] = None,
              to_version: Annotated[int | None, Query(ge=1)] = None) -> MapDrift:
    """Drift between two stored versions (default: the last two)."""
    with db.session() as session:
        engagements.get(session, engagement)
        known = versions(session, engagement)
        if not known:
            raise _none_yet(engagement)
        new_v = to_version or known[-1]
        older = [v for v in known if v < new_v]
        old_v = from_version or (older[-1] if older else None)
        new = load_version(session, engagement, new_v)
        if old_v is None:
            return MapDrift(engagement=engagement, from_version=None, to_version=new_v,
                            drift=[])
        old = load_version(session, engagement, old_v)
    return MapDrift(engagement=engagement, from_version=old_v, to_version=new_v,
                    drift=drift(old, new))
