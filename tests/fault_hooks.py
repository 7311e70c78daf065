"""Child-process hooks for the zoo tests (`IRFORGE_CHILD_HOOK=fault_hooks:misbehave`): a model whose
file name says so crashes its process (as a segfaulting native kernel would) or hangs."""

from __future__ import annotations

import os
import time
from pathlib import Path


def misbehave(job: str, model, *args) -> None:
    name = Path(model).name
    if "crash" in name and job.endswith("convert_job"):
        os.abort()
    if "hang" in name and job.endswith("validate_job"):
        time.sleep(3600)
