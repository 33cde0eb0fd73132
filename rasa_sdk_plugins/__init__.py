"""Found by rasa_sdk by this name: starts and stops the actions' services with the server."""
from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("rasa_sdk")


class _Lifecycle:
    @hookimpl
    def attach_sanic_app_extensions(self, app) -> None:
        from actions.services import attach

        attach(app)


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(_Lifecycle())
