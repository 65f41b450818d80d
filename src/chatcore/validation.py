"""What a username, an e-mail address and a new password must look like (SPEC §4.1)."""

from __future__ import annotations

import re

from chatcore.errors import ValidationFailed

USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
EMAIL_RE = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]{1,63})+"
)
MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024


def validate_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise ValidationFailed(
            "The username must be 3 to 30 letters, digits or . _ - characters.", field="username"
        )
    return username


def validate_email(email: str) -> str:
    """The address without surrounding spaces. Control characters, line breaks, tabs, invisible
    format characters and any whitespace inside it are refused: an address is one visible word
    (and a line break in one would end up in a header or a log line)."""
    cleaned = email.strip(" ")
    if (
        len(cleaned) > MAX_EMAIL_CHARS
        or not all(c.isprintable() and not c.isspace() for c in cleaned)
        or not EMAIL_RE.fullmatch(cleaned)
    ):
        raise ValidationFailed("Enter a valid e-mail address.", field="email")
    return cleaned


def validate_new_password(password: str, password2: str, *, username: str, field: str) -> str:
    if password != password2:
        raise ValidationFailed("The two passwords do not match.", field=f"{field}2")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(
            f"The password must be at least {MIN_PASSWORD_CHARS} characters long.", field=field
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationFailed("The password is too long.", field=field)
    if password.isdigit():
        raise ValidationFailed("The password must not be only digits.", field=field)
    if password.casefold() == username.casefold():
        raise ValidationFailed("The password must differ from the username.", field=field)
    return password
