# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""What the stack's image modules read from a build context."""
from __future__ import annotations

import os
import re


def parent_of(context):
    """The image the Dockerfile in CONTEXT builds its last stage FROM, or None (none, or scratch)."""
    dockerfile = os.path.join(context or "", "Dockerfile")
    if not context or not os.path.isfile(dockerfile):
        return None
    parent = None
    with open(dockerfile, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", line, re.I)
            if match:
                parent = match.group(1)
    return None if parent in (None, "scratch") else parent
