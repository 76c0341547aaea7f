"""The staff dashboard: HTML shells and static ES modules. All data comes from the public
REST API and the ``/ws/dashboard`` feed, exactly as any other client would get it."""
