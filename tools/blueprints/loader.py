"""Reading a blueprint file: YAML in, one validated model out, or an error naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from tools.blueprints.errors import BlueprintInvalid
from tools.blueprints.spec_catalog import CatalogBlueprint
from tools.blueprints.spec_custom import CustomLogicBlueprint
from tools.blueprints.spec_flows import CheckoutBlueprint, DunningBlueprint, InvoicingBlueprint
from tools.blueprints.spec_usage import MeteringBlueprint

__all__ = ["Blueprint", "LoadedBlueprint", "load_blueprint", "parse_blueprint"]

Blueprint = Annotated[
    CatalogBlueprint | MeteringBlueprint | CheckoutBlueprint | DunningBlueprint
    | InvoicingBlueprint | CustomLogicBlueprint,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[Blueprint] = TypeAdapter(Blueprint)
KINDS = ("catalog", "metering", "checkout", "dunning", "invoicing", "custom_logic")


class LoadedBlueprint(BaseModel):
    """The model plus where it came from (usage files are relative to it)."""

    spec: Blueprint
    base_dir: Path
    source: str


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in KINDS and not out:
            continue  # the union's branch name is not a field the author wrote
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_blueprint(data: object, *, source: str = "<blueprint>") -> Blueprint:
    if not isinstance(data, dict):
        raise BlueprintInvalid(f"{source}: a blueprint is a YAML mapping with a 'kind' field")
    if data.get("kind") not in KINDS:
        raise BlueprintInvalid(
            f"{source}: field 'kind' is {data.get('kind')!r}; expected one of {', '.join(KINDS)}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _field(tuple(err["loc"]))
            msg = "unknown field (not part of this blueprint kind)" \
                if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
            problems.append(f"field '{where}': {msg}")
        raise BlueprintInvalid(f"{source}: " + "; ".join(problems)) from None


def load_blueprint(path: str | Path) -> LoadedBlueprint:
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise BlueprintInvalid(f"no blueprint file at {file}",
                               hint="pass the path of a .yaml blueprint") from None
    except yaml.YAMLError as exc:
        raise BlueprintInvalid(f"{file} is not valid YAML: {exc}") from None
    spec = parse_blueprint(data, source=file.name)
    return LoadedBlueprint(spec=spec, base_dir=file.resolve().parent, source=str(file))
