"""Boundary models of the thread/run API, in the shapes langgraph-sdk reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from core.redact import redact_value

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
StreamMode = Literal["values", "updates", "messages", "messages-tuple", "custom", "events",
                     "debug", "tasks", "checkpoints"]
TERMINAL: frozenset[str] = frozenset({"error", "success", "timeout", "interrupted"})

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""An id the client chooses (a thread id): bounded, and safe in a URL path and a log line."""


def _secrets_only(value: Any) -> Any:
    return redact_value(value, pii=False)


UserInput = Annotated[dict[str, Any], AfterValidator(redact_value)]
"""What a user typed (a ticket, a chat message, run options): secrets and PII are redacted
here, at the door, so no checkpoint, run row, event or log ever holds them raw."""
Metadata = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], Any],
    Field(max_length=64, description="at most 64 keys of at most 64 characters"),
    AfterValidator(redact_value)]


class Assistant(BaseModel):
    assistant_id: str
    graph_id: str
    name: str
    description: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    version: int = 1
    created_at: datetime
    updated_at: datetime


class AssistantSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class Thread(BaseModel):
    thread_id: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]
    status: ThreadStatus
    values: dict[str, Any] | None = None
    interrupts: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    thread_id: ClientId | None = None
    metadata: Metadata = Field(default_factory=dict)
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    metadata: Metadata | None = None  # redacted like stored metadata, so it still matches
    status: ThreadStatus | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class Checkpoint(BaseModel):
    thread_id: str
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None
    checkpoint_map: dict[str, Any] | None = None


class Interrupt(BaseModel):
    value: Any
    id: str


class ThreadTask(BaseModel):
    id: str
    name: str
    error: str | None = None
    interrupts: list[Interrupt] = Field(default_factory=list)
    checkpoint: Checkpoint | None = None
    state: None = None
    result: dict[str, Any] | None = None


class ThreadState(BaseModel):
    values: dict[str, Any] | list[Any]
    next: list[str]
    checkpoint: Checkpoint | None
    metadata: dict[str, Any]
    created_at: str | None
    parent_checkpoint: Checkpoint | None
    tasks: list[ThreadTask]
    interrupts: list[Interrupt] = Field(default_factory=list)


class HistoryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=10, ge=1, le=1000)


class Command(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # a decision's message or edited args: secrets never belong there (PII may: an
    # edited e-mail address is a legitimate edit)
    resume: Annotated[Any, AfterValidator(_secrets_only)] = None
    goto: Any = None
    update: Any = None


class RunCreate(BaseModel):
    """What `client.runs.create/stream/wait` sends; fields we do not act on are accepted
    and ignored (the SDK always sends its full payload)."""

    model_config = ConfigDict(extra="ignore")

    assistant_id: ClientId
    input: UserInput | None = None
    command: Command | None = None
    stream_mode: StreamMode | list[StreamMode] = "values"
    metadata: Metadata = Field(default_factory=dict)
    config: UserInput | None = None
    context: UserInput | None = None
    on_disconnect: Literal["cancel", "continue"] = "continue"
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] = "reject"
    if_not_exists: Literal["reject", "create"] = "reject"

    def modes(self) -> list[str]:
        modes = [self.stream_mode] if isinstance(self.stream_mode, str) else self.stream_mode
        return ["messages" if m == "messages-tuple" else m for m in modes] or ["values"]


class Run(BaseModel):
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: datetime
    updated_at: datetime
    status: RunStatus
    error: str | None = Field(default=None, description="why a run ended in error or was "
                              "interrupted by a cancel; null otherwise")
    metadata: dict[str, Any]
    multitask_strategy: str = "reject"
    kwargs: dict[str, Any] = Field(default_factory=dict)
