"""The eval suite: scenarios (world + ticket + expected), runner, scorers, reports."""
