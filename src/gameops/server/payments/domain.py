from enum import StrEnum


class PaymentMethod(StrEnum):
    CASH = "CASH"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class PaymentPurpose(StrEnum):
    SESSION_START = "SESSION_START"
    SESSION_EXTENSION = "SESSION_EXTENSION"
