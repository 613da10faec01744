"""A declared shadow test: which corpus to replay into which two handlers, each with its own
user database, read through which mapping (the models import nothing heavy: the
integration profile holds one). The `shadow:` section of an engagement's
integration.yaml holds one, so the autopilot re-runs it whenever that file changes (a new
candidate deployed); `fde shadow run` builds the same plan from its options.

    shadow:
      corpus: corpora/checkout.jsonl          # relative paths: to integration.yaml's folder
      mapping: mapping.yaml
      primary: {name: v41, url: http://127.0.0.1:8001/webhooks/stripe, state: sqlite:///v41.db}
      candidate: {name: v42, url: http://127.0.0.1:8002/webhooks/stripe, state: sqlite:///v42.db}
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
    from tools.shadow.replay import Target

__all__ = ["SECRET_ENV", "HandlerSpec", "ShadowPlan", "run_plan"]

SECRET_ENV = "FDE_SHADOW_WEBHOOK_SECRET"


class HandlerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://", description="the handler's webhook URL")
    state: str = Field(min_length=1, description="DSN of this handler's own user database")

    @classmethod
    def parse(cls, spec: str, state: str | None) -> HandlerSpec:
        """A handler given on the command line as ``NAME=URL``, with its state DSN."""
        name, sep, url = spec.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise TargetError(f"handler {spec!r} is not NAME=URL",
                              hint="e.g. --primary v1=http://127.0.0.1:8001/webhooks/stripe")
        if not state:
            raise TargetError(f"handler {name!r} needs its own user database (a -state DSN)")
        return cls(name=name, url=url, state=state)

    def target(self, secret: SecretStr, mapping_path: Path) -> Target:
        """The handler to replay into, its state read through the mapping."""
        from tools.recon.adapter import open_user_system
        from tools.recon.mapping import load_mapping
        from tools.shadow.replay import Target

        user = open_user_system(self.state, load_mapping(mapping_path))
        return Target(name=self.name, url=self.url, secret=secret, user=user)


class ShadowPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corpus: Path
    mapping: Path
    primary: HandlerSpec
    candidate: HandlerSpec
    faults: list[str] = Field(default_factory=list)
    seed: int = 0
    secret_env: str = SECRET_ENV

    def resolved(self, base: Path) -> ShadowPlan:
        """Paths relative to `base` (the folder of the file that declared the plan)."""
        return self.model_copy(update={"corpus": base / self.corpus,
                                       "mapping": base / self.mapping})

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
        return " ".join([
            "fde shadow run", f"--corpus {shlex.quote(str(self.corpus))}",
            f"--primary {shlex.quote(f'{self.primary.name}={self.primary.url}')}",
            f"--candidate {shlex.quote(f'{self.candidate.name}={self.candidate.url}')}",
            f"--primary-state {shlex.quote(self.primary.state)}",
            f"--candidate-state {shlex.quote(self.candidate.state)}",
            f"--mapping {shlex.quote(str(self.mapping))}"])


def run_plan(plan: ShadowPlan, *, secret: SecretStr, engagement: str | None) -> ShadowRun:
    """Replay the plan's corpus into both handlers (clean, then its faults)."""
    from tools.recon.mapping import load_mapping
    from tools.shadow.corpus import load_corpus
    from tools.shadow.engine import ReplayOptions, run_webhook_replay
    from tools.shadow.faults import check_faults

    corpus = load_corpus(plan.corpus)  # a corpus that does not parse fails before any handler
    targets = [h.target(secret, plan.mapping) for h in (plan.primary, plan.candidate)]
    try:
        return run_webhook_replay(
            corpus, targets[0], targets[1], load_mapping(plan.mapping),
            ReplayOptions(faults=check_faults(list(plan.faults)), seed=plan.seed,
                          engagement=engagement, repro=plan.repro()))
    finally:
        for t in targets:
            if t.state is not None:
                t.state.close()  # the snapshot's temporary copy
            if t.user is not None:
                t.user.engine.dispose()
