"""`fde queue list|show|claim|decide`: the escalation queue in the terminal. Claiming and
deciding act as the API user whose token is given (`cli.login`: --token, FDE_API_TOKEN or
`fde login`), with that user's role, through the same service as the API's
`POST /escalations/{id}/decide`; a final decision queues the resume run, which the
`fde serve` workers execute."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli import context
from cli.login import Token, principal
from cli.output import console, print_json, say

app = typer.Typer(help="Escalations waiting for an engineer's decision.", no_args_is_help=True)


@app.command("list")
def list_cmd(
    engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None,
    severity: Annotated[str | None, typer.Option(help="low, medium, high, critical")] = None,
    product: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="open, claimed or decided")] = None,
    older_than: Annotated[int | None, typer.Option(help="only items older (seconds)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open escalations, oldest first."""
    from api import escalations

    with context.database().session() as session:
        items = escalations.list_open(session, engagement=engagement, severity=severity,
                                      product=product, status=status,
                                      min_age_seconds=older_than)
    if as_json:
        print_json([i.model_dump(mode="json") for i in items])
        return
    if not items:
        filtered = any(v is not None for v in (engagement, severity, product, status,
                                                older_than))
        say("no escalations match these filters" if filtered else "no open escalations")
        return
    table = Table("id", "engagement", "severity", "product", "money", "age", "status",
                  "summary")
    for i in items:
        table.add_row(i.id, i.engagement or "-", i.severity, i.product or "-",
                      i.money_impact.format() if i.money_impact else
                      ("money (amount unknown)" if i.money_action else "-"),
                      f"{i.age_seconds}s", i.status, i.summary[:60])
    console.print(table)


@app.command("show")
def show(escalation_id: str) -> None:
    """One escalation in full: the proposed actions, evidence and allowed decisions."""
    from api import escalations

    with context.database().session() as session:
        print_json(escalations.get(session, escalation_id).model_dump(mode="json"))


@app.command("claim")
def claim(escalation_id: str, token: Token = None) -> None:
    """Claim an escalation (a lease, FDE_API_ESCALATION_CLAIM_SECONDS)."""
    from api import escalations

    settings = context.settings()
    who = principal(token)
    if not who.at_least("engineer"):
        from core.errors import PermissionDenied

        raise PermissionDenied(f"claiming needs the engineer role; {who.name} is a {who.role}")
    with context.database().session() as session:
        view = escalations.claim(session, escalation_id, who,
                                 lease_seconds=settings.api_escalation_claim_seconds)
    say(f"claimed {view.id} until {view.claim_expires_at:%Y-%m-%d %H:%M:%S} UTC")


@app.command("decide")
def decide(
    escalation_id: str,
    decision: Annotated[str, typer.Option(help="approve, edit, reject or respond")],
    action: Annotated[str | None, typer.Option(help="the proposed action (approve/edit)")
                      ] = None,
    args: Annotated[str | None, typer.Option(help="edited args as JSON (edit)")] = None,
    message: Annotated[str, typer.Option(help="the answer (respond) or a note")] = "",
    named_ids: Annotated[list[str] | None, typer.Option(
        "--named-id", help="edit: an id no tool returned that the edit may target (looked "
        "up on the engagement's account); repeatable")] = None,
    token: Token = None,
) -> None:
    """Decide an escalation; a final decision resumes the paused run."""
    from api.escalations import DecisionIn
    from api.runs.runtime import Runtime
    from api.runs.service import decide_escalation
    from core.errors import ConfigError

    try:
        parsed = json.loads(args) if args else None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--args is not JSON: {exc}", hint='--args \'{"amount": 100}\'') \
            from None
    body = DecisionIn.model_validate({"type": decision, "action": action, "args": parsed,
                                      "message": message, "named_ids": named_ids or []})
    who = principal(token)
    if not who.at_least("engineer"):
        from core.errors import PermissionDenied

        raise PermissionDenied(f"deciding needs the engineer role; {who.name} is a {who.role}")
    with Runtime.offline(context.settings(), context.database()) as rt:
        result = decide_escalation(rt, escalation_id, who, body)
    if result.waiting_for_second_approver:
        say(f"recorded your approval of {escalation_id}; a second, different approver "
            "is needed")
    elif result.run_id is None:  # an autopilot case: no paused run, the case got it
        say(f"decided {escalation_id}: applied to autopilot case "
            f"{result.escalation.payload.get('case_id')} (see `fde autopilot status`)")
    else:
        say(f"decided {escalation_id}: resume run {result.run_id} queued on thread "
            f"{result.escalation.thread_id}")
