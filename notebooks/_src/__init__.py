"""Cell sources of the companion notebooks, one module per notebook (built by ``notebooks/_build.py``)."""
from . import nb01_handbook, nb02_classic, nb03_acnet, nb04_asymmnet, nb05_d2l

_MODULES = {"01": nb01_handbook, "02": nb02_classic, "03": nb03_acnet, "04": nb04_asymmnet, "05": nb05_d2l}

NOTEBOOKS = {key: {"file": m.FILE, "title": m.TITLE, "cells": m.CELLS} for key, m in _MODULES.items()}
