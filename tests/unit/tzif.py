"""An independent reading of the time-zone database, for test oracles.

``QuotaPolicy`` finds a local date with ``zoneinfo`` (``instant.astimezone(zone).date()``). An
oracle that did the same could never disagree with it. This module reads the zone's TZif file
itself (RFC 8536: the table of UTC instants at which the offset changes) and adds the offset in
force to the UTC time: other code, and no ``datetime`` time-zone arithmetic.

Only explicit transitions are used. Past the file's last transition the offset is taken as
fixed, which is checked: the file's footer rule must have no daylight saving time, or the file
must list transitions beyond the instants asked about ("fat" TZif files, as Debian ships, do).
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HEADER = struct.Struct(">4sc15x6l")


@dataclass(frozen=True)
class OffsetTable:
    """UTC offsets (seconds) of one zone: ``offsets[i]`` holds from ``transitions[i]`` on."""

    name: str
    transitions: tuple[int, ...]
    offsets: tuple[int, ...]
    initial: int
    fixed_after_last: bool

    def offset_at(self, instant: datetime) -> int:
        seconds = (instant - EPOCH) // timedelta(seconds=1)
        index = bisect.bisect_right(self.transitions, seconds) - 1
        if index < 0:
            return self.initial
        if index == len(self.transitions) - 1 and not self.fixed_after_last:
            raise LookupError(f"{self.name}: this TZif file lists no transitions after {instant}")
        return self.offsets[index]

    def changes_between(self, first: datetime, last: datetime) -> tuple[datetime, ...]:
        """The instants in ``[first, last)`` at which the offset changes."""
        low = bisect.bisect_left(self.transitions, (first - EPOCH) // timedelta(seconds=1))
        high = bisect.bisect_left(self.transitions, (last - EPOCH) // timedelta(seconds=1))
        return tuple(
            EPOCH + timedelta(seconds=self.transitions[i])
            for i in range(low, high)
            if self.offsets[i] != (self.offsets[i - 1] if i else self.initial)
        )


def local_date(instant: datetime, zone_name: str) -> date:
    """The calendar date a wall clock in ``zone_name`` shows at the aware ``instant``."""
    utc = instant.astimezone(UTC).replace(tzinfo=None)
    return (utc + timedelta(seconds=offset_table(zone_name).offset_at(instant))).date()


@functools.cache
def offset_table(zone_name: str) -> OffsetTable:
    return parse(zone_name, _read(zone_name))


def _read(zone_name: str) -> bytes:
    # Where zoneinfo looks too: the system database first, then the tzdata package.
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / zone_name
        if path.is_file():
            return path.read_bytes()
    return importlib.resources.files("tzdata.zoneinfo").joinpath(zone_name).read_bytes()


def parse(zone_name: str, data: bytes) -> OffsetTable:
    """Read the version 2+ (64-bit) data block and the footer of a TZif file."""
    magic, version, *counts = HEADER.unpack_from(data, 0)
    if magic != b"TZif" or version < b"2":
        raise ValueError(f"{zone_name}: not a TZif file of version 2 or later")
    # Skip the version 1 (32-bit) block: it is only there for old readers.
    start = HEADER.size + _block_size(*counts, time_size=4)
    magic, _, isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = HEADER.unpack_from(data, start)
    if leapcnt:
        raise ValueError(f"{zone_name}: leap-second ('right/') zones are not supported")
    at = start + HEADER.size
    transitions = struct.unpack_from(f">{timecnt}q", data, at)
    at += 8 * timecnt
    type_of = struct.unpack_from(f">{timecnt}B", data, at)
    at += timecnt
    utoffs = [struct.unpack_from(">lBB", data, at + 6 * i)[0] for i in range(typecnt)]
    at += 6 * typecnt + charcnt + isstdcnt + isutcnt
    footer = data[at:].strip(b"\n")
    return OffsetTable(
        name=zone_name,
        transitions=tuple(transitions),
        offsets=tuple(utoffs[t] for t in type_of),
        initial=utoffs[0],
        # A POSIX TZ rule with daylight saving time names its start and end after a comma.
        fixed_after_last=b"," not in footer,
    )


def _block_size(
    isutcnt: int, isstdcnt: int, leapcnt: int, timecnt: int, typecnt: int, charcnt: int, *, time_size: int
) -> int:
    return timecnt * (time_size + 1) + typecnt * 6 + charcnt + leapcnt * (time_size + 4) + isstdcnt + isutcnt
