"""The worker's configuration: the JSON object the front passes as argv[1].

Every field is declared once in FIELDS, with its default and the check its
value must pass; ``WorkerConfig.from_json`` validates any field the same
way. Keys the table does not know are ignored, so a newer front may pass
more than an older runtime reads.
"""
from __future__ import annotations

import json

# The interfaces the config accepts ("auto": tell by the application).
# interfaces.py says which of them this runtime serves; a known one it does
# not serve is a boot error there.
INTERFACE_NAMES = ("auto", "wsgi", "asgi")
# --asgi-lifespan (asgi/lifespan.py's MODES, named here so that reading the
# config costs a WSGI worker no asyncio import).
LIFESPAN_MODES = ("auto", "on", "off")

_REQUIRED = object()


def _non_empty_str(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _positive_int(value) -> bool:
    # type(), not isinstance(): JSON true is a bool, which is an int.
    return type(value) is int and value >= 1


def _bool(value) -> bool:
    return isinstance(value, bool)


def _interface(value) -> bool:
    return value in INTERFACE_NAMES


def _lifespan(value) -> bool:
    return value in LIFESPAN_MODES


class Field:
    __slots__ = ("name", "default", "check", "expected", "help")

    def __init__(self, name: str, default, check, expected: str, help: str) -> None:
        self.name = name
        self.default = default
        self.check = check
        self.expected = expected  # for the error: "<name> must be <expected>"
        self.help = help


FIELDS = (
    Field("app", _REQUIRED, _non_empty_str, "a non-empty string",
          "the application spec: module:callable, a file, or a factory call"),
    Field("pythonpath", [], _str_list, "a list of strings",
          "directories put on sys.path after the cwd, relative ones from the cwd"),
    Field("threads", 1, _positive_int, "an integer >= 1",
          "request threads; more than 1 runs the thread-pool request loop"),
    Field("multiprocess", True, _bool, "true or false",
          "wsgi.multiprocess: whether other processes serve the same application"),
    Field("debug", False, _bool, "true or false",
          "--debug: an application's exception as an HTML page"),
    Field("interface", "wsgi", _interface, "one of " + ", ".join('"%s"' % n for n in INTERFACE_NAMES),
          "the interface the application speaks (interfaces.py)"),
    Field("asgiLifespan", "auto", _lifespan, "one of " + ", ".join('"%s"' % n for n in LIFESPAN_MODES),
          "ASGI lifespan startup and shutdown: auto (when the application speaks it), on, off"),
)


class WorkerConfig:
    __slots__ = tuple(field.name for field in FIELDS)

    def __init__(self, **values) -> None:
        for field in FIELDS:
            value = values.pop(field.name, field.default)
            if value is _REQUIRED:
                raise TypeError("WorkerConfig needs %r" % field.name)
            # A list default is copied: each config owns its own.
            setattr(self, field.name, list(value) if isinstance(value, list) else value)
        if values:
            raise TypeError("WorkerConfig has no field %r" % next(iter(values)))

    @classmethod
    def from_json(cls, text: str) -> "WorkerConfig":
        """Parses and checks the front's JSON; ValueError says what is wrong."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError("the worker config is not JSON: %s" % exc) from None
        if not isinstance(data, dict):
            raise ValueError("the worker config must be a JSON object")
        values = {}
        for field in FIELDS:
            if field.name not in data:
                if field.default is _REQUIRED:
                    raise ValueError("the worker config needs \"%s\", %s" % (field.name, field.expected))
                continue
            value = data[field.name]
            if not field.check(value):
                raise ValueError("\"%s\" must be %s, got %s" % (field.name, field.expected, json.dumps(value)))
            values[field.name] = value
        return cls(**values)
