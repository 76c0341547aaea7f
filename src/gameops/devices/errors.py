"""The errors every driver raises; transport errors are re-raised ``from`` the original."""

from __future__ import annotations

# Errors the caller must handle: the device is unreachable, refused us, or said no.


class DeviceError(Exception):
    """Base class of every driver error."""


class DeviceConnectionError(DeviceError):
    """The device did not answer in time, or the connection failed or broke."""


class DeviceAuthError(DeviceError):
    """The device refused our credentials."""


class DeviceResponseError(DeviceError):
    """The device answered, but with an error or something we cannot read."""


# Internal: a bug in how the driver is used, not a device condition.


class NotInitializedError(DeviceError):
    """A call was made before ``initialize()`` or after ``shutdown()``."""
