"""Core: settings, money, ids, errors, storage, audit and log redaction.

Everything else depends on core; core depends on nothing in this project.
"""
