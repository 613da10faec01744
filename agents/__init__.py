"""Agents: LangGraph graphs (triage, investigate, review) over typed tools, with an LLM
planner and an offline playbook planner behind one interface."""
