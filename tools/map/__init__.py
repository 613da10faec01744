"""Integration map: build (from the checks' context), live receiver edges, versioned
snapshots, drift between snapshots, renderings (JSON, Mermaid, SVG/HTML)."""

from tools.map.build import build_map
from tools.map.drift import DriftItem, drift
from tools.map.model import Edge, Health, IntegrationMap, Node
from tools.map.render import to_html, to_json, to_mermaid, to_svg

__all__ = ["DriftItem", "Edge", "Health", "IntegrationMap", "Node", "build_map", "drift",
           "to_html", "to_json", "to_mermaid", "to_svg"]
