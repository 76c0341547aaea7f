"""``python -m gameops.agent --config PATH`` and ``gameops-agent``: the PC agent.

This is what the Windows service runs. Imports the agent only after
:func:`~gameops.agent.lean.defer_unused_imports`, which keeps it within its memory budget.
"""

from gameops.agent.lean import defer_unused_imports


def main() -> None:
    defer_unused_imports()
    from gameops.agent.main import console_main

    console_main()


if __name__ == "__main__":
    main()
