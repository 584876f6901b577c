"""Command palette entries for every action bound on the current screen and the app.

The entries come from the same ``Binding`` lists the footer shows, so a new key binding is in the palette
without a second registration, and the palette never offers an action the current screen cannot run.
"""

from __future__ import annotations

from functools import partial

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen


class ActionCommands(Provider):
    """One command per described binding of the screen below the palette, and of the app."""

    def _commands(self) -> list[tuple[str, str, object, str]]:
        """``(name, help, namespace node, action)`` for each binding, screen first, without duplicates.

        The name is the binding's tooltip when it has one (the footer's description is kept short).
        """
        found: dict[str, tuple[str, str, object, str]] = {}
        for active in self.screen.active_bindings.values():
            binding, node = active.binding, active.node
            if not binding.description or not isinstance(node, Screen | App) or not active.enabled:
                continue
            name = binding.tooltip or binding.description
            where = "" if node is self.app else f" · {type(node).__name__.removesuffix('Screen')}"
            found.setdefault(name, (name, f"key {binding.key_display or binding.key}{where}", node, binding.action))
        return list(found.values())

    async def discover(self) -> Hits:
        for name, help_text, node, action in self._commands():
            yield DiscoveryHit(name, partial(self._run, node, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, node, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, node, action), text=name,
                          help=help_text)

    async def _run(self, node: object, action: str) -> None:
        await self.app.run_action(action, node)  # type: ignore[arg-type]
