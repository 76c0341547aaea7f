from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    OPERATOR = "OPERATOR"
    CUSTOMER = "CUSTOMER"

    @property
    def is_staff(self) -> bool:
        return self in {Role.ADMIN, Role.OPERATOR}
