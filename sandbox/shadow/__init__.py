"""Scenario scripts that drive the Stripe replica to produce shadow-test corpora."""
