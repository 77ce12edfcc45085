"""configs/default.yaml documents every option with its real default, and the demo config is valid."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

from pydantic import BaseModel

from feedback_miner.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]


def _fields(model: type[BaseModel], prefix: str = ""):
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        subs = [a for a in (field.annotation, *typing.get_args(field.annotation))
                if isinstance(a, type) and issubclass(a, BaseModel)]
        if subs:
            yield from _fields(subs[0], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field, model


def test_every_option_is_described():
    missing = [key for key, field, model in _fields(Config)
               if not field.description and not model.__name__.endswith("Columns")]
    assert missing == []


def test_default_yaml_loads_to_the_code_defaults():
    cfg = load_config(ROOT / "configs" / "default.yaml")
    assert cfg.model_dump(exclude={"base_dir"}) == Config().model_dump(exclude={"base_dir"})


def test_default_yaml_is_up_to_date():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "write_default_config.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_demo_config_is_valid():
    cfg = load_config(ROOT / "configs" / "demo.yaml")
    assert cfg.sources.surveys is not None and cfg.sources.tickets is not None and cfg.sources.customers is not None
