"""What every command of the application layer shares: the request base class, the field types
read alike by every front door, the one JSON serialiser, and references to workload inputs.

A request model is the only place a command's inputs are declared, parsed and validated. The
CLI passes its options in as text, the web app its form fields and JSON bodies, ``import dlrig``
its keyword arguments: all go through :meth:`Request.parse`, so "7k", "$7,000" and "7000" are
the same budget everywhere and a bad value gets the same one-line message everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from dlrig.errors import InputError, WorkloadError, validation_problem

__all__ = [
    "MAX_TEXT_BYTES",
    "Cli",
    "Command",
    "GpuFlags",
    "JsonResult",
    "Request",
    "TextList",
    "Usd",
    "WorkloadFlags",
    "check_text_size",
    "request_error",
    "to_json",
    "workload_ref",
]

# Text pasted into the browser beyond this size is refused before parsing (a build or workload
# file is a few hundred bytes).
MAX_TEXT_BYTES = 256 * 1024
# Suffixes that make a string given as a workload a file name rather than a model preset.
WORKLOAD_FILE_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Cli:
    """How a request field appears on the command line (read by ``dlrig.cli.options``).

    ``flags``: the option's names ("--budget-usd", "-b"); none for a positional ``argument``.
    ``metavar``: what the help shows for the value. A field without ``Cli`` has no CLI option.
    """

    flags: tuple[str, ...] = ()
    argument: bool = False
    metavar: str | None = None

    def __init__(self, *flags: str, argument: bool = False, metavar: str | None = None) -> None:
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "argument", argument)
        object.__setattr__(self, "metavar", metavar)


class Request(BaseModel):
    """A command's inputs. Unknown fields are refused; build one with :meth:`parse`."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None = None, /, **fields: Any) -> Self:
        """The request from ``data`` and ``fields`` (None means "not given"), or an
        :class:`InputError` with the one-line message every front door shows."""
        given = {k: v for k, v in {**(data or {}), **fields}.items() if v is not None}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise request_error(exc.errors(), cls) from None

    @classmethod
    def from_form(cls, form: Mapping[str, Any], /, **fields: Any) -> Self:
        """The request from a web form: an empty field means "not given"; fields the model
        does not have (a page's own controls) are left out."""
        known = {
            k: v
            for k, v in form.items()
            if k in cls.model_fields and not (isinstance(v, str) and not v.strip())
        }
        return cls.parse(known, **fields)


def request_error(errors: Any, model: type[BaseModel] | None = None) -> InputError:
    """The first validation error as one line: the field, what is wrong, how to fix it.

    ``errors`` is pydantic's (or FastAPI's) error list; "body"/"query" prefixes are dropped so
    the web app names a field as the CLI and the library do. The error carries the field
    (:attr:`InputError.field`), so the CLI can name its option and a page its label.
    """
    first = dict(errors[0]) if errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query")]
    name = ".".join(loc) or "request"
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        known = ", ".join(model.model_fields) if model is not None else ""
        return InputError(f"unknown field '{name}'", f"known fields: {known}" if known else "")
    message, hint = _what_is_wrong(kind, name, first)
    return InputError(f"{name}: {message}", hint, field=loc[0] if len(loc) == 1 else None)


def _what_is_wrong(kind: str, name: str, error: Mapping[str, Any]) -> tuple[str, str]:
    """(what is wrong with the value, how to fix it) for one pydantic error of field ``name``."""
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "missing", "give a value"
    if kind.startswith("int_"):
        return f"'{value}' is not a whole number", "write e.g. 2"
    if kind.startswith("float_"):
        return f"'{value}' is not a number", "write e.g. 8 or 0.25"
    if kind.startswith("bool_"):
        return f"'{value}' is not yes or no", "write yes or no"
    if kind == "greater_than_equal":
        return f"{value} is below {ctx['ge']}", f"give {ctx['ge']} or more"
    if kind == "greater_than":
        return f"{value} is not above {ctx['gt']}", f"give more than {ctx['gt']}"
    if kind == "less_than_equal":
        return f"{value} is above {ctx['le']}", f"give {ctx['le']} or less"
    return validation_problem(error), f"fix {name}"  # the data files' words for the rest


# --- field types ------------------------------------------------------------------------------
def _usd(value: Any) -> Any:
    """Dollars as people write them ("7000", "7,000", "$7,000", "7k"), or a finite number."""
    from dlrig.units import parse_usd

    if isinstance(value, str):
        return parse_usd(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and not math.isfinite(value):
        raise InputError(f"'{value}' is not a finite amount", "write e.g. 7000")
    return value


def _words(value: Any) -> Any:
    """A list from repeated options, or from one comma-separated text field (web forms)."""
    if isinstance(value, str):
        return [w.strip() for w in value.split(",") if w.strip()]
    if isinstance(value, list | tuple):
        return [w.strip() for item in value for w in str(item).split(",") if w.strip()]
    return value


Usd = Annotated[float, BeforeValidator(_usd)]
"""US dollars: "7000", "7,000", "$7,000" and "7k" alike (:func:`dlrig.units.parse_usd`)."""
TextList = Annotated[list[str], BeforeValidator(_words)]
"""Names, from repeated CLI options, a JSON list, or one comma-separated form field."""


class WorkloadFlags(Request):
    """The workload flags of ``dlrig size`` and ``dlrig gpus`` (laid over a workload
    file's fields; see :func:`dlrig.workload.workload_from_flags`)."""

    task: Annotated[str | None, Cli("--task")] = Field(
        None, description="train, finetune, lora, qlora or inference."
    )
    model: Annotated[str | None, Cli("--model", "-m")] = Field(
        None, description="Model preset (see --list-models)."
    )
    precision: Annotated[str | None, Cli("--precision", "-p")] = Field(
        None, description="fp32, bf16, fp16, fp8, int8 or int4."
    )
    optimizer: Annotated[str | None, Cli("--optimizer")] = Field(
        None, description="adamw, adamw8bit, sgd or adafactor."
    )
    batch: Annotated[int | None, Cli("--batch", "-b")] = Field(
        None, description="Micro-batch per GPU."
    )
    seq: Annotated[int | None, Cli("--seq", "-s")] = Field(
        None, description="Sequence length (tokens)."
    )
    checkpointing: Annotated[bool | None, Cli("--checkpointing/--no-checkpointing")] = Field(
        None, description="Gradient checkpointing."
    )
    zero: Annotated[int | None, Cli("--zero")] = Field(
        None, description="ZeRO stage 0-3 (3 = FSDP)."
    )
    lora_rank: Annotated[int | None, Cli("--lora-rank")] = Field(None, description="LoRA rank.")
    tokens: Annotated[str | None, Cli("--tokens")] = Field(
        None, description="Training tokens per epoch, e.g. 10B or 1e9."
    )
    samples: Annotated[str | None, Cli("--samples")] = Field(
        None, description="Training samples per epoch (vision)."
    )
    epochs: Annotated[float | None, Cli("--epochs")] = Field(
        None, description="Epochs (default 1)."
    )
    framework: Annotated[str | None, Cli("--framework")] = Field(
        None,
        description="Framework profile: hf-trainer, torchtune, deepspeed, fsdp, litgpt, "
        "unsloth, vllm or llama.cpp.",
    )

    def flags(self) -> dict[str, Any]:
        """The flags as :func:`dlrig.workload.workload_from_flags` keywords."""
        return {name: getattr(self, name) for name in WorkloadFlags.model_fields}

    def has_flags(self) -> bool:
        """Whether any workload flag was given."""
        return any(v is not None for v in self.flags().values())


class GpuFlags(Request):
    """The GPUs a workload runs on, as ``dlrig size`` and ``dlrig gpus`` take them."""

    gpus: Annotated[int, Cli("--gpus", "-n")] = Field(1, ge=1, description="Number of GPUs.")
    interconnect: Annotated[str, Cli("--interconnect")] = Field(
        "pcie",
        description="pcie, pcie-p2p, pcie-switch, nvlink, nvlink-bridge, nvswitch or network.",
    )
    utilization: Annotated[float | None, Cli("--utilization", "-u")] = Field(
        None,
        description="Model FLOPs utilisation, PaLM accounting (default: the performance model).",
    )


# --- inputs -----------------------------------------------------------------------------------
def check_text_size(text: str, what: str) -> None:
    """Refuse pasted text over :data:`MAX_TEXT_BYTES` before parsing it."""
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise InputError(
            f"the {what} is {size:,} bytes; the limit is {MAX_TEXT_BYTES:,}",
            f"a {what} file is a few hundred bytes: paste just the {what}",
        )


def workload_ref(value: Any, read_files: bool) -> Any:
    """What a workload input names: None, a Workload or a mapping of fields (as given), a file
    (a Path; only where ``read_files``), else a model preset (``{"model": name}``) or the YAML
    text of a workload file (text with a newline or a colon; parsed, never opened).

    Every command reads its workload input here, so a missing file gives the same message in
    ``plan``, ``cost``, ``size`` and ``gpus``, and a file name given to the web app (which opens
    no files) says so in each.
    """
    from dlrig.workload import Workload, parse_workload_text

    if value is None or isinstance(value, Workload):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Path):
        return _existing_workload_file(value) if read_files else {"model": str(value)}
    text = str(value).strip()
    if not text:
        return None
    if read_files and (text.lower().endswith(WORKLOAD_FILE_SUFFIXES) or Path(text).exists()):
        return _existing_workload_file(Path(text))
    if _names_file(text):  # the web: a file name is not a preset ("unknown model preset" misled)
        raise WorkloadError(
            f"{text}: the web app opens no files",
            "paste the workload file's text into the workload field, or name a model preset",
        )
    if "\n" in text or ":" in text:
        check_text_size(text, "workload")
        return parse_workload_text(text)
    return {"model": text}


def _names_file(text: str) -> bool:
    """Whether ``text`` is a workload file's name rather than YAML text or a preset."""
    return text.lower().endswith(WORKLOAD_FILE_SUFFIXES) and not any(c in text for c in "\n{")


def _existing_workload_file(path: Path) -> Path:
    """``path``, once it is a readable workload file (else the one "file not found" message)."""
    from dlrig.workload import load_workload

    load_workload(path)
    return path


def require_model(data: Any) -> None:
    """A workload mapping must name a model (a preset or raw numbers)."""
    if isinstance(data, Mapping) and "model" not in data:
        raise WorkloadError(
            "no workload given", "choose a model preset (see dlrig size --list-models)"
        )


# --- commands -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """A command as the front doors see it; each ``dlrig/app/<module>.py`` declares one as
    ``COMMAND`` and :func:`dlrig.app.commands` finds it.

    A command without a hand-written CLI command, API route or page gets generic ones: ``dlrig
    NAME`` (options from ``request``; ``--json``; a table of the result), ``/api/NAME`` (GET with
    the fields as query parameters, or POST with ``text_field``'s text as the body) and the page
    ``/NAME`` (a form generated from ``request``).
    """

    name: str  # "check" → dlrig check, /api/check, /check
    request: type[Request]
    run: Callable[..., Any]  # run(request, catalog, read_files=...) → result with to_dict()
    summary: str  # one line: what the command answers
    text_field: str | None = None  # the field the web body's text fills (a build, a list)
    web: bool = True  # False: no API route or page (e.g. bench measures this machine)


# --- results ----------------------------------------------------------------------------------
class JsonResult(Protocol):
    """A command's result: ``to_dict()`` is its one JSON shape."""

    def to_dict(self) -> Any:
        """The result's one JSON shape (plain data)."""


def to_json(result: JsonResult | Any) -> str:
    """The JSON text of a result, byte for byte what the CLI prints with ``--json`` and what the
    web API answers: ``to_dict()`` (or the plain data), two-space indented, UTF-8, no trailing
    newline."""
    from dlrig.jsonout import dumps

    data = result.to_dict() if hasattr(result, "to_dict") else result
    return dumps(data)  # strict JSON: a non-finite number becomes null, never NaN/Infinity
