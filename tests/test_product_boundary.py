"""Only what real Stripe offers: the product reads Stripe through Stripe's own API surface.

Two rules, checked over the source (not by running it, so a code path no test reaches is
still covered):

1. Nothing the product runs (core, tools, knowledge, agents, api, cli) names the replica's
   private surface: no ``_replica`` anywhere outside sandbox/, tests/, evals/, benchmarks/.
   A feature that needs ``/_replica/…`` works against our sandbox and nowhere else.
2. Every Stripe path the product calls is one the official SDK's services expose: each
   ``/v1/…`` or ``/v2/…`` literal (plain or f-string) in the product is matched against the
   routes that ``stripe.StripeClient``'s services request, walked from ``client.v1`` and
   ``client.v2`` through every sub-service.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from functools import cache
from pathlib import Path

import pytest
import stripe
from stripe._stripe_service import StripeService

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("core", "tools", "knowledge", "agents", "api", "cli")
_SDK_CALL = re.compile(r'_request(?:_async|_stream|_stream_async)?\(\s*"(?:get|post|delete)",'
                       r'\s*"(/v[12]/[^"]+)"')
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
# regexes (permission tiers) and prose mention paths too; they are not calls
_NOT_A_PATH = re.compile(r"[\\()|\[\]\s]|\.\.\.")
# files whose path literals are not calls as written
_CLASSIFIERS = {"tools/stripe/tiers.py"}  # regexes sorting requests into permission tiers
_BY_ID = {"core/ids.py"}  # id prefix -> base path the gateway retrieves as `{path}/{id}`


def _product_files() -> list[Path]:
    return [f for pkg in PRODUCT for f in sorted((REPO / pkg).rglob("*.py"))]


@cache
def sdk_routes() -> frozenset[str]:
    """Every path template the SDK's services request, placeholders as ``{}``."""
    client = stripe.StripeClient("sk_test_boundary")
    routes: set[str] = set()
    seen: set[str] = set()

    def walk(service: StripeService) -> None:
        module = sys.modules[type(service).__module__]
        if module.__name__ in seen:
            return
        seen.add(module.__name__)
        routes.update(_PLACEHOLDER.sub("{}", p) for p in _SDK_CALL.findall(
            inspect.getsource(module)))
        for name in getattr(module, "_subservices", {}):
            walk(getattr(service, name))

    walk(client.v1)
    walk(client.v2)
    return frozenset(routes)


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def product_paths() -> list[tuple[str, int, str]]:
    """(file, line, path) for every Stripe path literal in the product."""
    out = []
    for f in _product_files():
        name = str(f.relative_to(REPO))
        if name in _CLASSIFIERS:
            continue
        tree = ast.parse(f.read_text(), filename=str(f))
        inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                 for v in n.values}
        for node in ast.walk(tree):
            text = None if id(node) in inner else _literal(node)
            if text is None or not re.match(r"/v[12]/", text) or _NOT_A_PATH.search(text):
                continue
            path = text.split("?")[0]
            out.append((name, node.lineno, path + "/{}" if name in _BY_ID else path))
    return out


def _matches(path: str, routes: frozenset[str]) -> bool:
    if path in routes:
        return True
    # a path built from a variable id (`/v1/customers/{}`) or a template (`{parent}`)
    return _PLACEHOLDER.sub("{}", path) in routes


def test_nothing_the_product_runs_names_the_replica():
    offenders = [f"{f.relative_to(REPO)}:{i}: {line.strip()}"
                 for f in _product_files()
                 for i, line in enumerate(f.read_text().splitlines(), start=1)
                 if "_replica" in line]
    assert offenders == [], "the product names the replica's private surface:\n" + "\n".join(
        offenders)


def test_the_sdk_walk_finds_the_routes_it_should():
    # the walk itself must work, or the next test would pass on an empty set
    routes = sdk_routes()
    assert {"/v1/events", "/v1/events/{}", "/v1/webhook_endpoints", "/v1/customers/{}",
            "/v1/billing/meters/{}/event_summaries"} <= routes
    assert "/_replica/deliveries" not in routes and len(routes) > 300


def test_every_stripe_path_the_product_calls_is_in_the_official_sdk():
    paths = product_paths()
    assert len(paths) > 50  # the walk sees the gateway's calls
    unknown = [f"{f}:{line}: {p}" for f, line, p in paths if not _matches(p, sdk_routes())]
    assert unknown == [], "paths the official SDK does not expose:\n" + "\n".join(unknown)


@pytest.mark.parametrize("path,ok", [("/v1/customers/{}", True), ("/v1/events", True),
                                     ("/v1/deliveries", False), ("/v1/customers/{}/x", False)])
def test_a_path_outside_the_sdk_is_caught(path, ok):
    assert _matches(path, sdk_routes()) is ok
