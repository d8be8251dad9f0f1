"""Training losses: the ``LOSSES`` registry and ``build_loss``, ``RDropLoss`` (R-Drop, arXiv 2106.14448)."""
from .criteria import LOSSES, LabelSmoothingCE, RDropCriterion, build_loss
from .rdrop import RDropLoss, kl_term

__all__ = ["LOSSES", "LabelSmoothingCE", "RDropCriterion", "build_loss", "RDropLoss", "kl_term"]
