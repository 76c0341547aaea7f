"""``python -m gameops.agent --config PATH``: the same as ``gameops-agent``, lighter.

structlog imports rich, when installed, only to pretty-print tracebacks; an agent on a gaming
PC has no use for that and keeping rich out of the process saves about 5 MB of memory
(bench/agent_footprint.py). This entry point is what the Windows service runs.
"""

import sys

sys.modules.setdefault("rich", None)  # type: ignore[arg-type]

from gameops.agent.main import console_main  # noqa: E402 - must follow the line above

console_main()
