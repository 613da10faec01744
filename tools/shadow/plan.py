"""A declared shadow test: which corpus to replay into which two handlers, each with its own
state — a database (read whole, or through a mapping) or a JSON state URL — and how to
reset it (default: a snapshot of the database taken before the run; or the app's reset
URL, a shell command). The models import nothing heavy: the integration profile holds
one. The `shadow:` section of an engagement's integration.yaml holds one, so the
autopilot re-runs it whenever that file changes (a new candidate deployed); `fde shadow
run` builds the same plan from its options.

    shadow:
      corpus: corpora/checkout.jsonl          # relative paths: to integration.yaml's folder
      mapping: mapping.yaml                   # optional: without it every table is compared
      invariants: invariants.yaml             # optional: what must hold, declared
      primary: {name: v41, url: http://127.0.0.1:8001/webhooks/stripe, state: sqlite:///v41.db}
      candidate: {name: v42, url: http://127.0.0.1:8002/webhooks/stripe,
                  state: http://127.0.0.1:8002/internal/state,
                  reset: http://127.0.0.1:8002/admin/reset}
      faults: [duplicate, reorder]
      secret_env: FDE_SHADOW_WEBHOOK_SECRET   # the handlers' signing secret: never in the file
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tools.shadow.errors import TargetError

if TYPE_CHECKING:
    from tools.shadow.models import ShadowRun
    from tools.shadow.replay import Observer, Target

__all__ = ["SECRET_ENV", "HandlerSpec", "ShadowPlan", "run_plan"]

SECRET_ENV = "FDE_SHADOW_WEBHOOK_SECRET"


class HandlerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://", description="the handler's webhook URL")
    state: str = Field(min_length=1, description="its own database URL, or a JSON state URL")
    reset: str | None = Field(default=None, description="reset URL, shell command or database "
                              "URL to snapshot (default: snapshot of `state`)")

    @classmethod
    def parse(cls, spec: str, state: str | None, *, default_name: str,
              reset: str | None = None) -> HandlerSpec:
        """A handler given on the command line as ``URL`` or ``NAME=URL``, with its state."""
        name, sep, url = spec.partition("=")
        if not sep or spec.startswith(("http://", "https://")):
            name, url = default_name, spec
        if not name or not url.startswith(("http://", "https://")):
            raise TargetError(f"handler {spec!r} is not a URL (or NAME=URL)",
                              hint="e.g. --primary http://127.0.0.1:8001/webhooks/stripe")
        if not state:
            raise TargetError(f"handler {name!r} needs its own state: a database URL or a "
                              "JSON state URL", hint=f"--{default_name}-state sqlite:///…, "
                              "postgresql://… or http://…/state")
        return cls(name=name, url=url, state=state, reset=reset or None)

    def target(self, secret: SecretStr, mapping_path: Path | None, *,
               headers: dict[str, str] | None = None, timeout: float | None = None) -> Target:
        """The handler to replay into, with its state source."""
        from tools.recon.mapping import load_mapping
        from tools.shadow.replay import Target
        from tools.shadow.sources import open_state

        mapping = load_mapping(mapping_path) if mapping_path else None
        state = open_state(self.state, name=self.name, mapping=mapping, reset=self.reset,
                           headers=headers)
        extra = {} if timeout is None else {"timeout": timeout}
        return Target(name=self.name, url=self.url, secret=secret, state=state, **extra)


class ShadowPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corpus: Path
    mapping: Path | None = None
    invariants: Path | None = None  # the user's declared invariants (tools/shadow/declared.py)
    primary: HandlerSpec
    candidate: HandlerSpec
    faults: list[str] = Field(default_factory=list)
    seed: int = 0
    secret_env: str = SECRET_ENV
    lanes: int = Field(default=8, ge=1, le=64)
    timeout: float = Field(default=10.0, gt=0, description="seconds, like Stripe's wait")
    budget_minutes: float | None = Field(default=None, gt=0)
    # Sent with state and reset requests (an admin token): values never in a repro line.
    reset_headers: dict[str, str] = Field(default_factory=dict)

    def resolved(self, base: Path) -> ShadowPlan:
        """Paths relative to `base` (the folder of the file that declared the plan)."""
        return self.model_copy(update={
            "corpus": base / self.corpus,
            "mapping": base / self.mapping if self.mapping else None,
            "invariants": base / self.invariants if self.invariants else None})

    def secret(self) -> SecretStr:
        """The handlers' signing secret, from the environment variable the plan names."""
        raw = os.environ.get(self.secret_env)
        if not raw:
            raise TargetError(
                f"the handlers' signing secret is not set: {self.secret_env} is empty",
                hint=f"export {self.secret_env}=whsec_… where the autopilot runs")
        return SecretStr(raw)

    def repro(self) -> str:
        """The `fde shadow run` command line that replays this plan."""
        parts = [
            "fde shadow run", f"--corpus {shlex.quote(str(self.corpus))}",
            f"--primary {shlex.quote(f'{self.primary.name}={self.primary.url}')}",
            f"--candidate {shlex.quote(f'{self.candidate.name}={self.candidate.url}')}",
            f"--primary-state {shlex.quote(self.primary.state)}",
            f"--candidate-state {shlex.quote(self.candidate.state)}"]
        for side, spec in (("primary", self.primary), ("candidate", self.candidate)):
            if spec.reset:
                parts.append(f"--{side}-reset {shlex.quote(spec.reset)}")
        parts += [f"--reset-header {shlex.quote(f'{k}: …')}" for k in self.reset_headers]
        if self.mapping:
            parts.append(f"--mapping {shlex.quote(str(self.mapping))}")
        if self.invariants:
            parts.append(f"--invariants {shlex.quote(str(self.invariants))}")
        return " ".join(parts)


def run_plan(plan: ShadowPlan, *, secret: SecretStr, engagement: str | None,
             observer: Observer | None = None) -> ShadowRun:
    """Replay the plan's corpus into both handlers (clean, then its faults)."""
    from tools.recon.mapping import load_mapping
    from tools.shadow.corpus import load_corpus
    from tools.shadow.engine import ReplayOptions, run_webhook_replay
    from tools.shadow.faults import check_faults

    corpus = load_corpus(plan.corpus)  # a corpus that does not parse fails before any handler
    mapping = load_mapping(plan.mapping) if plan.mapping else None  # no canonical model
    targets = []
    try:
        for h in (plan.primary, plan.candidate):
            targets.append(h.target(secret, plan.mapping, headers=plan.reset_headers,
                                    timeout=plan.timeout))
        return run_webhook_replay(
            corpus, targets[0], targets[1], mapping,
            ReplayOptions(faults=check_faults(list(plan.faults)), seed=plan.seed,
                          engagement=engagement, repro=plan.repro(), lanes=plan.lanes,
                          invariants=plan.invariants,
                          budget=plan.budget_minutes * 60 if plan.budget_minutes else None),
            observer=observer)
    finally:
        for t in targets:
            if t.state is not None:
                t.state.close()  # the snapshot's temporary copy
            if t.user is not None:
                t.user.engine.dispose()
