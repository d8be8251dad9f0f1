"""Training losses: ``RDropLoss`` (R-Drop, arXiv 2106.14448) and its ``kl_term``."""
from .rdrop import RDropLoss, kl_term

__all__ = ["RDropLoss", "kl_term"]
