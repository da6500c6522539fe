"""Repository-wide pytest setup: make nbval run the notebooks (notebooks/*.ipynb) as Jupyter does.

It lives at the root, not in notebooks/, so that it is loaded for any pytest invocation
(``pytest``, ``pytest notebooks/``, ``pytest --nbval notebooks/02-modality-evidence.ipynb``)
and so that tests/conftest.py stays the only ``conftest`` module the tests import from.

1. nbval starts each notebook's kernel in this folder: PYTHONPATH entries are made
   absolute first, so that ``PYTHONPATH=src pytest`` (a checkout without an install)
   still imports lbpevidence in the kernel.
2. nbval >= 0.10 executes cells with ``store_history=False``, and IPython then ignores a
   trailing ``;`` (it looks for it in the history): every plot cell would print its Axes
   repr, which Jupyter and nbclient never store. Known bugs, open upstream:
   computationalmodelling/nbval#194 and ipython/ipython#14162. Cells are executed with
   ``store_history=True`` here, as Jupyter does; nbval ignores execution counts anyway.
"""

import os
from pathlib import Path

if os.environ.get("PYTHONPATH"):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        str(Path(entry).resolve()) for entry in os.environ["PYTHONPATH"].split(os.pathsep) if entry)

try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval not installed: no notebook is collected anyway
    RunningKernel = None


def _execute_cell_input(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


if RunningKernel is not None and hasattr(RunningKernel, "execute_cell_input"):
    RunningKernel.execute_cell_input = _execute_cell_input
