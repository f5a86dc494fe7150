"""Edge export: float and int8 TFLite models of a blessed model, gated on their eval accuracy, pushed beside it."""

from components.edge.component import EdgeExport, EdgeModel

__all__ = ["EdgeExport", "EdgeModel"]
