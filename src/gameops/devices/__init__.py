"""Device drivers: small libraries that know nothing of GameOps (no app imports).

Each takes its transport (an aiohttp session, an SSL context) from the caller, is built with
``create()`` and torn down with ``shutdown()``, bounds every call with ``asyncio.timeout`` and
raises only the errors in :mod:`gameops.devices.errors`.
"""
