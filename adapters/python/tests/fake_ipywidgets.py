"""A stand-in for ``ipywidgets`` (not installed in the test environments, and a notebook front
end is not needed): just the classes Dask's ``Cluster._widget`` builds, keeping their values and
click handlers, so the test drives Dask's real widget code — its buttons and its periodic
refresh — and reads what it would show."""

from __future__ import annotations

__version__ = "8.1.0"


class Widget:
    def __init__(self, *args, **kwargs):
        self.children = list(args[0]) if args and isinstance(args[0], (list, tuple)) else []
        self.kwargs = kwargs
        self.titles: dict[int, str] = {}

    def set_title(self, i, title):
        self.titles[i] = title


class Layout(Widget):
    pass


class HTML(Widget):
    def __init__(self, value="", **kwargs):
        super().__init__(**kwargs)
        self.value = value


class IntText(Widget):
    def __init__(self, value=0, **kwargs):
        super().__init__(**kwargs)
        self.value = value


class Button(Widget):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._handlers = []

    def on_click(self, handler):
        self._handlers.append(handler)

    def click(self):
        for h in self._handlers:
            h(self)


class HBox(Widget):
    pass


class VBox(Widget):
    pass


class Accordion(Widget):
    selected_index = None


class Tab(Widget):
    pass
