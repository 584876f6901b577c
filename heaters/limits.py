"""The ranges of ids and frame numbers every edge accepts (API schema, CLI), so no value overflows a column.

Ids are BIGINT columns, but stop where JSON clients (JavaScript numbers) still read them exactly; frame numbers
and cut versions are INTEGER columns.
"""

from __future__ import annotations

MAX_ID = 2**53 - 1
MAX_FRAME = 2**31 - 1
