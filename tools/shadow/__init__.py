"""Shadow tests against a user's setup: replay a corpus of Stripe events into a primary and
a candidate webhook handler, compare what they answer and the state they leave (noise
filtered), inject Stripe's delivery faults and check invariants; or run the legacy billing
system in parallel with Stripe's invoices and explain every difference by cause. Reports
PASS / FAIL / INCONCLUSIVE with a repro command per mismatch (DESIGN §3.6, §7)."""
