"""DataTable helpers: the screens rebuild their tables on every poll but keep the operator's selection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist


def cursor_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


def restore_cursor(table: DataTable[Any], key: str | None) -> bool:
    """Put the cursor back on row ``key`` if it still exists; says whether it did."""
    if key is None:
        return False
    try:
        index = table.get_row_index(key)
    except RowDoesNotExist:
        return False
    table.move_cursor(row=index, animate=False)
    return True


def replace_rows(table: DataTable[Any], rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
    """Swap in new ``(key, cells)`` rows and keep the cursor on the same key when it survives."""
    keep = cursor_key(table)
    row = table.cursor_row
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if not restore_cursor(table, keep) and table.row_count:
        table.move_cursor(row=min(row, table.row_count - 1), animate=False)
