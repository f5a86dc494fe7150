"""The quality gate: TFMA EvalConfig and the baseline model resolver."""

from components.evaluation.eval_config import make_eval_config
from components.evaluation.resolver import BaselineResolver, LatestBlessedModelResolver

__all__ = ["BaselineResolver", "LatestBlessedModelResolver", "make_eval_config"]
