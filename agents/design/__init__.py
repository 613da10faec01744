"""The design graph: requirements intake → cited solution design draft, stored for an
engineer to edit and approve (never sent anywhere)."""

from agents.design.graph import build_design_graph
from agents.design.run import DesignResult, design_deps, run_design

__all__ = ["DesignResult", "build_design_graph", "design_deps", "run_design"]
