"""Planners behind one interface: `OfflinePlanner` (playbooks, no model) and `LLMPlanner`
(any OpenAI-compatible endpoint). `select_planner` picks one from the environment."""

from agents.planners.base import Emit, Planner, ToolRunner, select_planner

__all__ = ["Emit", "Planner", "ToolRunner", "select_planner"]
