"""Requirements → solution design: the structured intake, the payment-method availability
table, the deterministic rules that turn requirements into a cited draft, and the stored
drafts an engineer edits and approves."""
