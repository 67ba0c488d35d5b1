"""Pure lead scoring: records in, scores out. No I/O, no clock, no imports from other layers."""

from scoring.evaluate import score, score_page
from scoring.explain import Explanation, explain
from scoring.model import ScoringModel, compile_model

__all__ = ["Explanation", "ScoringModel", "compile_model", "explain", "score", "score_page"]
