"""Billing parallel run: legacy invoices (CSV, plugin) against the replica's invoice previews
and finalized invoices.

The legacy amounts below are computed here from the prices the story script sets up
(sandbox/shadow/billing.py), never read back from Stripe: one planted difference per cause,
and a faithful legacy export that must PASS.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.conftest import free_port
from tools.shadow.billing import BillingOptions, run_billing_parallel
from tools.shadow.errors import LegacyInputError
from tools.shadow.legacy import BillingWindow, LegacyInvoice, load_legacy_csv, run_plugin
from tools.shadow.models import Verdict
from tools.stripe.config import GatewayConfig
from tools.stripe.gateway import StripeGateway

NOV_1 = 1_793_491_200  # 2026-11-01 00:00 UTC: the replica's clock start
HEADER = "customer,subscription,period_start,period_end,currency,subtotal,discount,tax,total," \
         "proration,usage,reference"
# story -> legacy row for December (subtotal, discount, tax, total, proration, usage), where
# "planted" differs from Stripe by exactly one cause and "faithful" bills what Stripe bills.
PLANTED = {
    "equal": (1900, 0, 0, 1900, "", ""),
    "proration": (4900, 0, 0, 4900, "", ""),  # upgrade 19 -> 49 on day 15 not prorated
    "tax": (2100, 0, 399, 2499, "", ""),  # 19 % of 21.00 rounded once; Stripe per line
    "exponent": (150000, 0, 0, 150000, "", ""),  # JPY 1,500 stored as if it had cents
    "usage": (1900, 0, 0, 1900, "", ""),  # 30 API calls at 0.10 never billed
    "discount": (4900, 490, 0, 4410, "", ""),  # a 10 % coupon Stripe does not have
    "extra": (2900, 0, 0, 2900, "", ""),  # a 10.00 fee nobody itemised
}
EXPECTED = {"equal": None, "proration": ["PRORATION"], "tax": ["TAX_ROUNDING"],
            "exponent": ["CURRENCY_EXPONENT"], "usage": ["MISSING_USAGE"],
            "discount": ["DISCOUNT"], "extra": ["UNEXPLAINED"]}
HALF_UPGRADE = (4900 - 1900) // 2  # 15 of November's 30 days on the new price
FAITHFUL = {
    "equal": (1900, 0, 0, 1900, "", ""),
    "proration": (4900 + HALF_UPGRADE, 0, 0, 4900 + HALF_UPGRADE, str(HALF_UPGRADE), ""),
    "tax": (2100, 0, 400, 2500, "", ""),  # 199.5 rounded up on each of the two lines
    "exponent": (1500, 0, 0, 1500, "", ""),
    "usage": (1900 + 300, 0, 0, 2200, "", "300"),
    "discount": (4900, 0, 0, 4900, "", ""),
    "extra": (1900, 0, 0, 1900, "", ""),
}


@pytest.fixture(scope="module")
def billing_world(tmp_path_factory: pytest.TempPathFactory):
    from sandbox.replica.config import ReplicaConfig
    from sandbox.replica.testing import running_replica
    from sandbox.shadow.billing import play_billing

    folder = tmp_path_factory.mktemp("billing")
    config = ReplicaConfig(db_path=folder / "replica.sqlite", clock_start=NOV_1,
                           clock_frozen=True, id_seed=23)
    with running_replica(config.db_path, config=config) as replica:
        stories = play_billing(replica)
        gateway = StripeGateway(GatewayConfig(
            api_base=replica.url, api_key=SecretStr(replica.api_key), expected_mode="test",
            rate_limit=1000, max_retries=0))
        try:
            yield replica, stories, gateway
        finally:
            gateway.close()


def _csv(path: Path, stories: dict, rows: dict, *, start: str = "2026-12-01",
         end: str = "2026-12-31") -> Path:
    lines = [HEADER]
    for story, (sub, disc, tax, total, pro, usage) in rows.items():
        currency = "jpy" if story == "exponent" else "usd"
        ids = stories[story]
        lines.append(f"{ids['customer']},{ids['subscription']},{start},{end},{currency},"
                     f"{sub},{disc},{tax},{total},{pro},{usage},INV-{story}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_each_planted_difference_is_attributed_to_its_cause(billing_world, tmp_path):
    _, stories, gateway = billing_world
    legacy = load_legacy_csv(_csv(tmp_path / "legacy.csv", stories, PLANTED))
    report = run_billing_parallel(legacy, gateway, BillingOptions(source="legacy.csv"))
    assert report.verdict is Verdict.FAIL and report.run.mode == "billing_parallel"
    by_customer = {m.object_id: m for m in report.mismatches}
    for story, causes in EXPECTED.items():
        found = by_customer.get(stories[story]["customer"])
        if causes is None:
            assert found is None, found
        else:
            assert found is not None and found.causes == causes, (story, found)
            assert found.repro.endswith(f"--customer {stories[story]['customer']}")
    assert report.totals["matched_equal"] == 1 and report.totals["mismatches"] == 6
    assert report.by_cause == {c[0]: 1 for c in EXPECTED.values() if c}
    # Money impact per currency in minor units: |Stripe - legacy| summed.
    impact = {m.currency: m.amount_minor for m in report.money_impact}
    assert impact == {"jpy": 150000 - 1500, "usd": HALF_UPGRADE + 1 + 300 + 490 + 1000}


def test_faithful_legacy_export_passes(billing_world, tmp_path):
    _, stories, gateway = billing_world
    legacy = load_legacy_csv(_csv(tmp_path / "legacy.csv", stories, FAITHFUL,
                                  end="2027-01-01"))  # exclusive end dates match too
    report = run_billing_parallel(legacy, gateway, BillingOptions())
    assert report.verdict is Verdict.PASS, [m.detail for m in report.mismatches]
    assert report.totals["matched_equal"] == len(FAITHFUL) and report.mismatches == []


def test_other_period_and_finalized_invoices_are_matched_by_period(billing_world, tmp_path):
    _, stories, gateway = billing_world
    # November is not what the preview covers: reported, not silently compared.
    nov = _csv(tmp_path / "nov.csv", stories, {"equal": FAITHFUL["equal"]},
               start="2026-11-01", end="2026-11-30")
    preview = run_billing_parallel(load_legacy_csv(nov), gateway, BillingOptions())
    assert preview.verdict is Verdict.FAIL
    assert preview.mismatches[0].causes == ["UNMATCHED"]
    assert "covers 2026-12-01..2027-01-01" in preview.mismatches[0].detail
    # November's finalized invoices: the equal story matches; the discount customer's
    # invoice has no legacy row and is reported as Stripe-only.
    rows = {"equal": (1900, 0, 0, 1900, "", ""), "extra": (1900, 0, 0, 1900, "", "")}
    legacy = load_legacy_csv(_csv(tmp_path / "inv.csv", stories, rows, start="2026-11-01",
                                  end="2026-11-30"))
    legacy.append(LegacyInvoice(customer=stories["discount"]["customer"],
                                period_start="2026-10-01", period_end="2026-10-31",
                                currency="usd", subtotal=4900, total=4900))
    report = run_billing_parallel(legacy, gateway, BillingOptions(stripe="invoices"))
    assert report.totals["matched_equal"] == 2
    unmatched = {(m.primary, m.candidate) for m in report.mismatches}
    assert unmatched == {(None, 4900), (4900, None)}
    assert all(m.causes == ["UNMATCHED"] for m in report.mismatches)


def test_bad_csv_line_is_named(tmp_path):
    good = "cus_A1,,2026-12-01,2026-12-31,usd,1900,0,0,1900,,,"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, good, "cus_A2,,2026-12-01,2026-12-31,usd,19.00,0,0,"
                               "1900,,,"]) + "\n")
    with pytest.raises(LegacyInputError, match=r"bad.csv line 3: subtotal: .*integer"):
        load_legacy_csv(path)
    path.write_text("\n".join([HEADER, good, "cus_A3,,2026-12-01,2026-12-31,usd,1900,0,190,"
                               "1900,,,"]) + "\n")
    with pytest.raises(LegacyInputError, match=r"line 3: .*total 1900 is not subtotal"):
        load_legacy_csv(path)
    path.write_text("\n".join([HEADER, good, "cus_A4,,2026-12-01,2026-12-31,xyz,1,0,0,1,,,"])
                    + "\n")
    with pytest.raises(LegacyInputError, match=r"line 3: .*xyz"):
        load_legacy_csv(path)
    path.write_text("customer,period_start,total\n")
    with pytest.raises(LegacyInputError, match=r"line 1: header missing period_end"):
        load_legacy_csv(path)


def legacy_plugin(window: BillingWindow) -> list[dict]:
    """A plugin as a user writes one: bills every customer it is asked about 19.00."""
    return [{"customer": c, "period_start": window.start, "period_end": window.end,
             "currency": "usd", "subtotal": 1900, "total": 1900}
            for c in window.customers or []]


def test_plugin_and_cli_store_the_run(billing_world, tmp_path, monkeypatch, _isolated_env):
    from cli import context
    from cli.main import app

    replica, stories, _ = billing_world
    window = BillingWindow(start="2026-12-01", end="2026-12-31",
                           customers=[stories["equal"]["customer"]])
    assert run_plugin(f"{__name__}:legacy_plugin", window)[0].total == 1900
    with pytest.raises(LegacyInputError, match="no 'nope'"):
        run_plugin(f"{__name__}:nope", window)
    context.settings.cache_clear()
    context.database.cache_clear()
    runner = CliRunner()
    monkeypatch.setenv("FDE_ENGAGEMENT_STRIPE_KEY", replica.api_key + "0" * 12)
    added = runner.invoke(app, ["engagement", "add", "acme", "--no-verify", "--api-base",
                                replica.url])
    assert added.exit_code == 0, added.output
    legacy = _csv(tmp_path / "legacy.csv", stories, PLANTED)
    result = runner.invoke(app, ["shadow", "billing", "--legacy", str(legacy),
                                 "--engagement", "acme", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "FAIL" in result.output and "TAX_ROUNDING" in result.output
    flat = "".join(result.output.split())  # the console wraps long lines
    assert f"repro:fdeshadowbilling--legacy{legacy}--engagementacme" in flat
    run_id = result.output.split("run ", 1)[1].split(":", 1)[0]
    shown = runner.invoke(app, ["shadow", "show", run_id])
    assert "mode: billing_parallel" in shown.output and "## By cause" in shown.output
    html = (tmp_path / "r" / "report.html").read_text()
    assert "CURRENCY_EXPONENT" in html and "<script" not in html
    plugged = runner.invoke(app, [
        "shadow", "billing", "--plugin", f"{__name__}:legacy_plugin", "--period-start",
        "2026-12-01", "--period-end", "2026-12-31", "--engagement", "acme",
        "--customer", stories["equal"]["customer"], "--out", str(tmp_path / "p")])
    assert plugged.exit_code == 0 and "PASS" in plugged.output, plugged.output
    context.settings.cache_clear()
    context.database.cache_clear()


def test_unreachable_stripe_is_inconclusive(tmp_path):
    port = free_port()
    gateway = StripeGateway(GatewayConfig(api_base=f"http://127.0.0.1:{port}",
                                          api_key=SecretStr("sk_test_" + "x" * 24),
                                          expected_mode="test", max_retries=0))
    row = LegacyInvoice(customer="cus_X", period_start="2026-12-01", period_end="2026-12-31",
                        currency="usd", subtotal=100, total=100)
    report = run_billing_parallel([row], gateway, BillingOptions())
    gateway.close()
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.reasons[0].startswith("Stripe could not be read")
