import logging

from core.logging import configure_logging, get_logger


def test_keys_and_pii_never_reach_the_logs(capsys):
    key = "sk_live_" + "S3cr3t" * 5
    configure_logging("DEBUG", "json")
    get_logger("t").info("calling stripe", api_key=key, note=f"with {key}", email="a@b.co")
    logging.getLogger("stripe").warning("request failed for key %s", key)
    err = capsys.readouterr().err
    assert key not in err
    assert "a@b.co" not in err
    assert "sk_live_…" in err and "[REDACTED]" in err
