"""Threads and runs in the LangGraph Server (Agent Protocol) shape: the run queue, its
workers, the persisted run events and their SSE streams."""
