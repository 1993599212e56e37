"""Ship the copier template inside standard wheels.

The template lives at the top of the repository (``templates/``). A wheel carries it
as ``aiscaffold/_template``; an editable install reads it from the checkout, so it is
not copied there (a copy in site-packages would go stale as the template is edited).
"""

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class TemplateBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["templates"] = "aiscaffold/_template"
